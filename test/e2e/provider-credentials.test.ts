import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createTeam,
  errorPaths,
  platformAuditEvents,
  asPlatformAdmin,
  signUpPlatformAdmin,
  signUpUser,
  type SignedInUser,
} from '../helpers/api.ts';
import { expectAnsweredAsStored, type WriteAndRead } from '../helpers/as-stored.ts';
import { times } from '../helpers/fake-provider.ts';
import { useFakeProvider } from '../helpers/use-fake-provider.ts';

let owner: SignedInUser;
let editor: SignedInUser;
let viewer: SignedInUser;
let admin: SignedInUser;
let orgId: string;
const fake = useFakeProvider();

beforeAll(async () => {
  [owner, editor, viewer, admin] = await Promise.all([
    signUpUser('keys-owner'),
    signUpUser('keys-editor'),
    signUpUser('keys-viewer'),
    signUpPlatformAdmin('keys-admin'),
  ]);
  ({ orgId } = await createTeam(owner, [
    { user: editor, role: 'editor' },
    { user: viewer, role: 'viewer' },
  ]));
});

const secret = () => `sk-proj-${randomUUID().replace(/-/g, '')}`;

describe('an organization’s provider keys', () => {
  it('are stored without ever being answered: only the last four characters', async () => {
    const key = secret();
    const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
      token: owner.accessToken,
      body: {
        label: 'OpenAI production',
        providerSlug: 'openai',
        key,
        defaultModel: 'gpt-4o-mini',
        config: { organization: 'org-acme42', timeoutMs: 30000 },
        dailyQuota: 1000,
        monthlyQuota: 20000,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      credentialId: expect.stringMatching(/^pcr_/),
      ownerType: 'org',
      orgId,
      providerSlug: 'openai',
      hasKey: true,
      keyLast4: key.slice(-4),
      isDefault: true,
      isActive: true,
      dailyQuota: 1000,
      monthlyQuota: 20000,
      createdBy: owner.userId,
    });
    const id = created.body.credentialId as string;
    const reads = [
      created,
      await api('GET', `/v1/orgs/${orgId}/provider-credentials`, { token: owner.accessToken }),
      await api('GET', `/v1/orgs/${orgId}/provider-credentials/${id}`, { token: owner.accessToken }),
      await api('GET', `/v1/orgs/${orgId}/audit-events`, { token: owner.accessToken }),
    ];
    for (const res of reads) {
      expect(JSON.stringify(res.body)).not.toContain(key);
      expect(JSON.stringify(res.body)).not.toContain('keyCipher');
    }
    expect(reads[3]!.body.items.map((e: { action: string }) => e.action)).toContain('provider-credential.created');
  });

  it('are read by editors but managed only with provider-credentials:manage; API keys act within their scopes', async () => {
    const body = { label: 'Anthropic', providerSlug: 'anthropic', key: secret() };
    expect((await api('POST', `/v1/orgs/${orgId}/provider-credentials`, { token: editor.accessToken, body })).status).toBe(403);
    expect((await api('GET', `/v1/orgs/${orgId}/provider-credentials`, { token: editor.accessToken })).status).toBe(200);
    const client = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      token: owner.accessToken,
      body: { name: 'Keys robot', scopes: ['provider-credentials:read', 'provider-credentials:manage'] },
    });
    const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, { apiKey: client.body.key, body });
    expect(created.status).toBe(201);
    expect(created.body.createdBy).toBe(client.body.clientId);
  });

  it('replay a retry with the same Idempotency-Key whose config lists its fields in another order (the same request)', async () => {
    const owner = await signUpUser('pc-idem-order');
    const { orgId } = await createTeam(owner);
    const key = secret();
    const send = (rawBody: string) =>
      api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
        token: owner.accessToken,
        rawBody,
        headers: { 'idempotency-key': `order-${orgId}`, 'content-type': 'application/json' },
      });
    const first = await send(
      `{"label":"OpenAI","providerSlug":"openai","key":"${key}","config":{"organization":"org-a","timeoutMs":30000}}`,
    );
    expect(first.status).toBe(201);
    const again = await send(
      `{"config":{"timeoutMs":30000,"organization":"org-a"},"key":"${key}","providerSlug":"openai","label":"OpenAI"}`,
    );
    expect([again.status, again.headers.get('idempotent-replayed'), again.body.credentialId]).toEqual([
      201,
      'true',
      first.body.credentialId,
    ]);
    const other = await send(
      `{"label":"OpenAI","providerSlug":"openai","key":"${key}","config":{"organization":"org-b","timeoutMs":30000}}`,
    );
    expect(other.status).toBe(422);
    expect((await api('GET', `/v1/orgs/${orgId}/provider-credentials`, { token: owner.accessToken })).body.items).toHaveLength(1);
  });

  it('keep one default per provider: the first by itself, then whichever is made default', async () => {
    const { orgId: team } = await createTeam(owner);
    const add = (label: string, extra: Record<string, unknown> = {}) =>
      api('POST', `/v1/orgs/${team}/provider-credentials`, {
        token: owner.accessToken,
        body: { label, providerSlug: 'google', key: secret(), ...extra },
      });
    const first = await add('First');
    const second = await add('Second');
    expect([first.body.isDefault, second.body.isDefault]).toEqual([true, false]);
    const third = await add('Third', { isDefault: true });
    expect(third.body.isDefault).toBe(true);
    const defaults = async () => {
      const list = await api('GET', `/v1/orgs/${team}/provider-credentials?providerSlug=google`, { token: owner.accessToken });
      return list.body.items.filter((c: { isDefault: boolean }) => c.isDefault).map((c: { label: string }) => c.label);
    };
    expect(await defaults()).toEqual(['Third']);
    await api('PATCH', `/v1/orgs/${team}/provider-credentials/${second.body.credentialId}`, {
      token: owner.accessToken,
      body: { isDefault: true },
    });
    expect(await defaults()).toEqual(['Second']);
    await api('DELETE', `/v1/orgs/${team}/provider-credentials/${second.body.credentialId}`, { token: owner.accessToken });
    expect(await defaults()).toEqual([]);
    // Another provider's keys are not affected.
    const other = await api('POST', `/v1/orgs/${team}/provider-credentials`, {
      token: owner.accessToken,
      body: { label: 'OpenAI', providerSlug: 'openai', key: secret() },
    });
    expect(other.body.isDefault).toBe(true);
  });

  it('must fit their provider: a key when it needs one, a config its JSON Schema accepts, a safe base URL', async () => {
    const post = (body: Record<string, unknown>) =>
      api('POST', `/v1/orgs/${orgId}/provider-credentials`, { token: owner.accessToken, body: { label: 'x', ...body } });
    const noKey = await post({ providerSlug: 'openai' });
    expect(noKey.status).toBe(400);
    expect(errorPaths(noKey.body)).toEqual(['body.key']);
    const badConfig = await post({
      providerSlug: 'openai',
      key: secret(),
      config: { organization: 'acme', timeoutMs: 5, extra: 1 },
    });
    expect(badConfig.status).toBe(400);
    expect(errorPaths(badConfig.body).sort()).toEqual(['body.config.extra', 'body.config.organization', 'body.config.timeoutMs']);
    const badEnum = await post({ providerSlug: 'anthropic', key: secret(), config: { anthropicVersion: '2020-01-01' } });
    expect(errorPaths(badEnum.body)).toEqual(['body.config.anthropicVersion']);
    expect((await post({ providerSlug: 'nobody', key: secret() })).status).toBe(404);
    for (const baseUrl of [
      'http://api.example.com/v1',
      'https://10.0.0.8/v1',
      'https://169.254.169.254/',
      'https://user:pw@example.com',
      'nonsense',
    ]) {
      const res = await post({ providerSlug: 'openai', key: secret(), baseUrl });
      expect(res.status, baseUrl).toBe(400);
      expect(errorPaths(res.body)).toEqual(['body.baseUrl']);
    }
    // Locally, a fake provider on loopback is allowed.
    expect((await post({ providerSlug: 'openai', key: secret(), baseUrl: 'http://127.0.0.1:9999/v1' })).status).toBe(201);
    // Bedrock needs no key; its config is checked all the same.
    expect((await post({ providerSlug: 'bedrock', config: { region: 'eu-west-1' } })).status).toBe(201);
    expect(errorPaths((await post({ providerSlug: 'bedrock', config: { region: 'Mars' } })).body)).toEqual([
      'body.config.region',
    ]);
  });

  it('take no key for the local model, which calls no one: refused when created with one or given one', async () => {
    const refused = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
      token: owner.accessToken,
      body: { label: 'Local', providerSlug: 'local', key: 'whatever-123' },
    });
    expect(refused.status, JSON.stringify(refused.body)).toBe(400);
    expect(errorPaths(refused.body)).toEqual(['body.key']);
    const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
      token: owner.accessToken,
      body: { label: 'Local', providerSlug: 'local', isDefault: false },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const path = `/v1/orgs/${orgId}/provider-credentials/${created.body.credentialId}`;
    const keyed = await api('PATCH', path, { token: owner.accessToken, body: { key: 'whatever-123' } });
    expect(keyed.status, JSON.stringify(keyed.body)).toBe(400);
    expect(errorPaths(keyed.body)).toEqual(['body.key']);
    expect((await api('GET', path, { token: owner.accessToken })).body).toMatchObject({ hasKey: false });
    expect((await api('DELETE', path, { token: owner.accessToken })).status).toBe(204);
  });

  it('are changed (a new key replaces the old, fields cleared with null) and deleted', async () => {
    const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
      token: owner.accessToken,
      body: { label: 'Rotating', providerSlug: 'openai', key: secret(), baseUrl: 'https://llm.example.com/v1', dailyQuota: 5 },
    });
    const path = `/v1/orgs/${orgId}/provider-credentials/${created.body.credentialId}`;
    const newKey = secret();
    const changed = await api('PATCH', path, {
      token: owner.accessToken,
      body: { key: newKey, label: 'Rotated', baseUrl: null, dailyQuota: null, isActive: false },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ label: 'Rotated', keyLast4: newKey.slice(-4), isActive: false });
    expect(changed.body).not.toHaveProperty('baseUrl');
    expect(changed.body).not.toHaveProperty('dailyQuota');
    expect(JSON.stringify(changed.body)).not.toContain(newKey);
    const read = await api('GET', path, { token: owner.accessToken });
    expect(read.body).toMatchObject({ label: 'Rotated', keyLast4: newKey.slice(-4), isActive: false });
    expect(read.body).not.toHaveProperty('baseUrl');

    const invalid = await api('PATCH', path, { token: owner.accessToken, body: { config: { nope: true } } });
    expect(errorPaths(invalid.body)).toEqual(['body.config.nope']);
    expect((await api('PATCH', path, { token: owner.accessToken, body: {} })).status).toBe(400);

    expect((await api('DELETE', path, { token: owner.accessToken })).status).toBe(204);
    expect((await api('GET', path, { token: owner.accessToken })).status).toBe(404);
    expect((await api('PATCH', path, { token: owner.accessToken, body: { label: 'x' } })).status).toBe(404);
  });

  it('of a provider an admin removed stay readable and can be relabelled, deactivated, re-quota’d and deleted, not re-keyed or tested', async () => {
    const slug = `gone${randomUUID().slice(0, 6)}`;
    const saved = await asPlatformAdmin(admin, 'PUT', `/v1/admin/providers/${slug}`, {
      displayName: 'Soon gone',
      adapter: 'openai',
      group: { name: 'Gone' },
      defaultBaseUrl: 'https://api.example.com/v1',
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
      token: owner.accessToken,
      body: { label: 'Orphan', providerSlug: slug, key: secret(), defaultModel: 'gpt-4o-mini' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const path = `/v1/orgs/${orgId}/provider-credentials/${created.body.credentialId}`;
    expect((await asPlatformAdmin(admin, 'DELETE', `/v1/admin/providers/${slug}`)).status).toBe(204);

    expect((await api('GET', path, { token: owner.accessToken })).status).toBe(200);
    const changed = await api('PATCH', path, {
      token: owner.accessToken,
      body: { label: 'Renamed', isActive: false, dailyQuota: 3, monthlyQuota: null },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({ label: 'Renamed', isActive: false, dailyQuota: 3 });
    for (const body of [{ key: secret() }, { config: {} }, { baseUrl: 'https://llm.example.com/v1' }]) {
      const refused = await api('PATCH', path, { token: owner.accessToken, body });
      expect(refused.status, JSON.stringify(body)).toBe(422);
      expect(refused.body.detail).toContain(`${slug} was removed`);
      expect(errorPaths(refused.body)).toEqual(Object.keys(body).map((field) => `body.${field}`));
    }
    const tested = await api('POST', `${path}/test`, { token: owner.accessToken });
    expect(tested.status).toBe(422);
    expect(tested.body.detail).toContain(`${slug} was removed`);
    expect((await api('GET', path, { token: owner.accessToken })).body).toMatchObject({ label: 'Renamed', isActive: false });
    expect((await api('DELETE', path, { token: owner.accessToken })).status).toBe(204);
  });
});

describe('a user’s own provider keys', () => {
  it('belong to the user alone', async () => {
    const other = await signUpUser('keys-other');
    const key = secret();
    const created = await api('POST', '/v1/me/provider-credentials', {
      token: owner.accessToken,
      body: { label: 'My OpenAI', providerSlug: 'openai', key },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ownerType: 'user', userId: owner.userId, keyLast4: key.slice(-4), isDefault: true });
    const id = created.body.credentialId as string;
    expect(
      (await api('GET', '/v1/me/provider-credentials', { token: owner.accessToken })).body.items.map(
        (c: { credentialId: string }) => c.credentialId,
      ),
    ).toContain(id);
    expect((await api('GET', '/v1/me/provider-credentials', { token: other.accessToken })).body.items).toEqual([]);
    expect((await api('GET', `/v1/me/provider-credentials/${id}`, { token: other.accessToken })).status).toBe(404);
    const renamed = await api('PATCH', `/v1/me/provider-credentials/${id}`, {
      token: owner.accessToken,
      body: { label: 'Mine' },
    });
    expect(renamed.body.label).toBe('Mine');
    expect(JSON.stringify(renamed.body)).not.toContain(key);
    expect((await api('DELETE', `/v1/me/provider-credentials/${id}`, { token: other.accessToken })).status).toBe(404);
    expect((await api('DELETE', `/v1/me/provider-credentials/${id}`, { token: owner.accessToken })).status).toBe(204);
  });
});

describe('the platform’s own provider keys', () => {
  it('are managed by platform admins only, and audited', async () => {
    const since = Date.now() - 5_000;
    const provider = `prov-${randomUUID().slice(0, 8)}`;
    const saved = await asPlatformAdmin(admin, 'PUT', `/v1/admin/providers/${provider}`, {
      displayName: 'Keys test',
      adapter: 'openai',
      group: { name: 'Test' },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const body = { label: 'Platform key', providerSlug: provider, key: secret() };
    expect((await api('POST', '/v1/admin/provider-credentials', { token: owner.accessToken, body })).status).toBe(403);
    const created = await api('POST', '/v1/admin/provider-credentials', { token: admin.accessToken, body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ownerType: 'platform', isDefault: true });
    const id = created.body.credentialId as string;
    const list = await api('GET', `/v1/admin/provider-credentials?providerSlug=${provider}`, { token: admin.accessToken });
    expect(list.body.items.map((c: { credentialId: string }) => c.credentialId)).toEqual([id]);
    expect((await api('GET', `/v1/admin/provider-credentials/${id}`, { token: admin.accessToken })).body.label).toBe(
      'Platform key',
    );
    expect((await api('GET', `/v1/admin/provider-credentials/${id}`, { token: owner.accessToken })).status).toBe(403);
    expect(
      (await api('PATCH', `/v1/admin/provider-credentials/${id}`, { token: admin.accessToken, body: { monthlyQuota: 100 } })).body
        .monthlyQuota,
    ).toBe(100);
    // The platform's default keys are one item: another suite's admin adding a key meanwhile makes this a 409 to retry.
    expect((await asPlatformAdmin(admin, 'DELETE', `/v1/admin/provider-credentials/${id}`)).status).toBe(204);
    const actions = (await platformAuditEvents(admin, id, since)).map((e) => e.action);
    expect(actions).toEqual(['provider-credential.deleted', 'provider-credential.updated', 'provider-credential.created']);
  });
});

describe('testing a provider key', () => {
  /** An organization's OpenAI key pointing at the fake provider (loopback is allowed in the local cloud). */
  async function fakeKey(extra: Record<string, unknown> = {}, org = orgId) {
    const key = secret();
    const created = await api('POST', `/v1/orgs/${org}/provider-credentials`, {
      token: owner.accessToken,
      body: { label: 'Tested', providerSlug: 'openai', key, baseUrl: fake().baseUrl('openai'), isDefault: false, ...extra },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const path = `/v1/orgs/${org}/provider-credentials/${created.body.credentialId}`;
    return { key, path, credentialId: created.body.credentialId as string };
  }

  it('calls the provider once with a one-token request and answers the time; not metered', async () => {
    const { key, path, credentialId } = await fakeKey();
    const before = await api('GET', `/v1/orgs/${orgId}/credits`, { token: owner.accessToken });
    const res = await api('POST', `${path}/test`, { token: owner.accessToken });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      ok: true,
      responseTimeMs: expect.any(Number),
      testedAt: expect.any(String),
      model: 'gpt-4o-mini', // the provider's cheapest chat model: the key names none
      operation: 'chat',
    });
    expect(fake().requests).toHaveLength(1);
    const [call] = fake().requests;
    expect(call).toMatchObject({ operation: 'chat', model: 'gpt-4o-mini', body: { max_tokens: 1 } });
    expect(call!.headers.authorization).toBe(`Bearer ${key}`);

    const read = await api('GET', path, { token: owner.accessToken });
    expect(read.body.lastTest).toEqual(res.body);
    expect(read.body.lastUsedAt).toBe(res.body.testedAt);
    // No credits, no usage log; the test is audited like the key's other changes.
    expect((await api('GET', `/v1/orgs/${orgId}/credits`, { token: owner.accessToken })).body).toEqual(before.body);
    expect((await api('GET', `/v1/orgs/${orgId}/usage`, { token: owner.accessToken })).body.items).toEqual([]);
    const audit = await api('GET', `/v1/orgs/${orgId}/audit-events`, { token: owner.accessToken });
    const tested = audit.body.items.find((e: { action: string; targetId: string }) => e.targetId === credentialId);
    expect(tested).toMatchObject({ action: 'provider-credential.tested', actorId: owner.userId, details: { ok: true } });
    // The key, its organization's defaults and the catalogue are read with the authorization: with the
    // catalogue's models cached, a test makes two requests (that read, the result); another suite's
    // admin changing the catalogue meanwhile (or its minute running out) has the next test read the
    // models again, three, within the budget every route keeps (the harness checks it on each call).
    const counts: number[] = [];
    for (let attempt = 0; attempt < 4 && !counts.includes(2); attempt++) {
      const again = await api('POST', `${path}/test`, { token: owner.accessToken });
      expect(again.body).toMatchObject({ ok: true, model: 'gpt-4o-mini' });
      counts.push(again.dynamoRequests.length);
    }
    expect(counts).toContain(2);
    expect(Math.max(...counts)).toBeLessThanOrEqual(3);
  });

  it('answers a refused key as a result (no retry), stored and shown by GET, without the key', async () => {
    const { key, path } = await fakeKey({ defaultModel: 'gpt-4o' });
    fake().script('gpt-4o', { kind: 'fail', status: 401, message: `Incorrect API key provided: ${key}` });
    const res = await api('POST', `${path}/test`, { token: owner.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: false, model: 'gpt-4o', error: { type: 'auth', status: 401 } });
    expect(res.body.error.message).toContain('Incorrect API key provided');
    expect(JSON.stringify(res.body)).not.toContain(key);
    expect(fake().received()).toBe(1);
    const read = await api('GET', path, { token: owner.accessToken });
    expect(read.body.lastTest).toEqual(res.body);
    expect(read.body).not.toHaveProperty('lastUsedAt');
    expect(JSON.stringify(read.body)).not.toContain(key);
  });

  it('cuts a short key out of the error in every spelling a provider may echo it in', async () => {
    const key = 'sk-Short+Key/12="x';
    const { path } = await fakeKey({ key, defaultModel: 'gpt-4o' });
    const echoes = [key, encodeURIComponent(key), JSON.stringify(key).slice(1, -1), Buffer.from(key).toString('base64')];
    fake().script('gpt-4o', { kind: 'fail', status: 401, message: `Bad key ${echoes.join(' / ')}` });
    const res = await api('POST', `${path}/test`, { token: owner.accessToken });
    expect(res.body).toMatchObject({ ok: false, error: { type: 'auth', status: 401 } });
    expect(res.body.error.message).toContain('Bad key [redacted] / [redacted] / [redacted] / [redacted]');
    const read = await api('GET', path, { token: owner.accessToken });
    expect(read.body.lastTest).toEqual(res.body);
    for (const spelling of echoes) expect(JSON.stringify(read.body)).not.toContain(JSON.stringify(spelling).slice(1, -1));
  });

  it('answers a provider that does not answer in time as a timeout result', async () => {
    const { path } = await fakeKey();
    fake().script('gpt-4o-mini', { kind: 'hang' });
    const started = performance.now();
    const res = await api('POST', `${path}/test`, { token: owner.accessToken, body: { timeoutMs: 300 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: false, error: { type: 'timeout' } });
    expect(res.body.responseTimeMs).toBeGreaterThanOrEqual(290);
    // Well short of the 8 s a test waits by default, with room for a loaded machine.
    expect(performance.now() - started).toBeLessThan(6_000);
    expect((await api('GET', path, { token: owner.accessToken })).body.lastTest.error.type).toBe('timeout');
    // The wait is bounded: never past the route's own limit.
    expect((await api('POST', `${path}/test`, { token: owner.accessToken, body: { timeoutMs: 60_000 } })).status).toBe(400);
  });

  it('waits the key’s own timeoutMs when the body sets none, and the body’s when it does', async () => {
    const { path } = await fakeKey({ config: { timeoutMs: 1_000 } });
    fake().script('gpt-4o-mini', times(2, { kind: 'hang' }));
    const started = performance.now();
    const res = await api('POST', `${path}/test`, { token: owner.accessToken });
    expect(res.body).toMatchObject({ ok: false, error: { type: 'timeout', message: expect.stringContaining('1000 ms') } });
    expect(res.body.responseTimeMs).toBeGreaterThanOrEqual(990);
    // The key's second, not the 8 s a test waits at most.
    expect(performance.now() - started).toBeLessThan(6_000);
    const asked = await api('POST', `${path}/test`, { token: owner.accessToken, body: { timeoutMs: 300 } });
    expect(asked.body).toMatchObject({ ok: false, error: { type: 'timeout', message: expect.stringContaining('300 ms') } });
  });

  it('makes one embedding for a key named for a model that only embeds', async () => {
    const { path } = await fakeKey({ defaultModel: 'text-embedding-3-small' });
    const res = await api('POST', `${path}/test`, { token: owner.accessToken });
    expect(res.body).toMatchObject({ ok: true, model: 'text-embedding-3-small', operation: 'embeddings' });
    expect(fake().requests.map((r) => r.operation)).toEqual(['embeddings']);
  });

  it('is for those who manage the keys: 403 for viewers and editors, 404 for another organization’s key', async () => {
    const { path } = await fakeKey();
    for (const user of [viewer, editor])
      expect((await api('POST', `${path}/test`, { token: user.accessToken })).status).toBe(403);
    const stranger = await signUpUser('keys-stranger');
    expect((await api('POST', `${path}/test`, { token: stranger.accessToken })).status).toBe(404);
    // Another organization's key named under one's own organization is not found either.
    const { orgId: elsewhere } = await createTeam(stranger);
    const theirs = await fakeKey({}, orgId);
    const crossed = `/v1/orgs/${elsewhere}/provider-credentials/${theirs.credentialId}/test`;
    expect((await api('POST', crossed, { token: stranger.accessToken })).status).toBe(404);
    expect(fake().received()).toBe(0);
  });

  it('tests a user’s own key and a platform key the same way, each for its owner only', async () => {
    const mine = await api('POST', '/v1/me/provider-credentials', {
      token: owner.accessToken,
      body: { label: 'Mine', providerSlug: 'openai', key: secret(), baseUrl: fake().baseUrl('openai'), defaultModel: 'my-model' },
    });
    const myPath = `/v1/me/provider-credentials/${mine.body.credentialId}`;
    expect((await api('POST', `${myPath}/test`, { token: editor.accessToken })).status).toBe(404);
    const tested = await api('POST', `${myPath}/test`, { token: owner.accessToken });
    expect(tested.body).toMatchObject({ ok: true, model: 'my-model' });
    expect((await api('GET', myPath, { token: owner.accessToken })).body.lastTest).toEqual(tested.body);
    await api('DELETE', myPath, { token: owner.accessToken });

    const provider = `prov-${randomUUID().slice(0, 8)}`;
    const saved = await asPlatformAdmin(admin, 'PUT', `/v1/admin/providers/${provider}`, {
      displayName: 'Tested provider',
      adapter: 'openai',
      group: { name: 'Test' },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const platformKey = await api('POST', '/v1/admin/provider-credentials', {
      token: admin.accessToken,
      body: { label: 'Platform', providerSlug: provider, key: secret(), baseUrl: fake().baseUrl('openai') },
    });
    const platformPath = `/v1/admin/provider-credentials/${platformKey.body.credentialId}`;
    // No catalogue model of the new provider and none named: nothing to test with.
    const nothing = await api('POST', `${platformPath}/test`, { token: admin.accessToken });
    expect(nothing.status).toBe(422);
    expect(errorPaths(nothing.body)).toEqual(['body.defaultModel']);
    // A model the admins add to the catalogue for it is what a key without a default model is tested with.
    const added = await api('PUT', `/v1/admin/models/${provider}-embed`, {
      token: admin.accessToken,
      body: {
        providerSlug: provider,
        providerModelId: 'catalogued-embed',
        name: 'Catalogued embeddings',
        type: 'TEXT',
        capabilities: ['embeddings'],
        pricing: { inputPerMTokMicros: 20_000, outputPerMTokMicros: 0 },
      },
    });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    const catalogued = await api('POST', `${platformPath}/test`, { token: admin.accessToken });
    expect(catalogued.body).toMatchObject({ ok: true, model: 'catalogued-embed', operation: 'embeddings' });
    await api('DELETE', `/v1/admin/models/${provider}-embed`, { token: admin.accessToken });
    await api('PATCH', platformPath, { token: admin.accessToken, body: { defaultModel: 'platform-model' } });
    expect((await api('POST', `${platformPath}/test`, { token: owner.accessToken })).status).toBe(403);
    fake().script('platform-model', { kind: 'fail', status: 429, retryAfter: 1 });
    const throttled = await api('POST', `${platformPath}/test`, { token: admin.accessToken });
    expect(throttled.body).toMatchObject({ ok: false, model: 'platform-model', error: { type: 'throttled', status: 429 } });
    expect(fake().received()).toBe(3);
    await api('DELETE', platformPath, { token: admin.accessToken });
  });
});

describe('testing a key whose server answers 200 with what its provider’s API never answers', () => {
  /** A loopback server that answers every call 200 with `answer` as its JSON body. */
  let answer = 'null';
  let server: Server;
  let serverUrl = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(answer);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // What each dialect's adapter reads, sent as JSON that is not an object or with a field of the wrong type.
  const cases: Array<{ providerSlug: string; path: string; defaultModel: string; bodies: string[] }> = [
    {
      providerSlug: 'openai',
      path: '/v1',
      defaultModel: 'gpt-4o-mini',
      bodies: ['null', '5', '[]', '"text"', '{"choices":[null]}', '{"choices":[{"message":5}]}'],
    },
    { providerSlug: 'openai', path: '/v1', defaultModel: 'text-embedding-3-small', bodies: ['{"data":5}', '{"data":[null]}'] },
    {
      providerSlug: 'anthropic',
      path: '',
      defaultModel: 'claude-3-5-haiku-latest',
      bodies: ['null', '{"content":5,"usage":{}}', '{"content":[],"usage":null}'],
    },
    {
      providerSlug: 'google',
      path: '',
      defaultModel: 'gemini-1.5-flash',
      bodies: ['null', '{"candidates":[null],"usageMetadata":{}}', '{"candidates":[{"content":{"parts":5}}]}'],
    },
  ];
  for (const { providerSlug, path, defaultModel, bodies } of cases)
    it(`answers a result (ok: false, the provider’s failure), not a 500: ${providerSlug} ${defaultModel}`, async () => {
      const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
        token: owner.accessToken,
        body: { label: 'Odd server', providerSlug, key: secret(), baseUrl: serverUrl + path, defaultModel, isDefault: false },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const credential = `/v1/orgs/${orgId}/provider-credentials/${created.body.credentialId}`;
      for (const body of bodies) {
        answer = body;
        const tested = await api('POST', `${credential}/test`, { token: owner.accessToken, body: {} });
        expect(tested.status, `${body}: ${JSON.stringify(tested.body)}`).toBe(200);
        expect(tested.body, body).toMatchObject({ ok: false, model: defaultModel, error: { type: 'server' } });
      }
      await api('DELETE', credential, { token: owner.accessToken });
    });

  it('says the answer was malformed when it is not a JSON object', async () => {
    answer = '[{"choices":[]}]';
    const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
      token: owner.accessToken,
      body: { label: 'Array server', providerSlug: 'openai', key: secret(), baseUrl: `${serverUrl}/v1`, isDefault: false },
    });
    const credential = `/v1/orgs/${orgId}/provider-credentials/${created.body.credentialId}`;
    const tested = await api('POST', `${credential}/test`, { token: owner.accessToken, body: {} });
    expect(tested.body).toMatchObject({ ok: false, error: { type: 'server', message: 'OpenAI answered with malformed JSON' } });
    expect((await api('GET', credential, { token: owner.accessToken })).body.lastTest).toEqual(tested.body);
    await api('DELETE', credential, { token: owner.accessToken });
  });
});

describe('a key deleted while it is changed or deleted again', () => {
  const racer = async () => {
    const { orgId: org } = await createTeam(owner);
    const created = await api('POST', `/v1/orgs/${org}/provider-credentials`, {
      token: owner.accessToken,
      body: { label: 'Contested', providerSlug: 'openai', key: secret(), isDefault: false },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { org, path: `/v1/orgs/${org}/provider-credentials/${created.body.credentialId}` };
  };

  // A race either way round, so tried a number of times.
  it('made the default as it is deleted, leaves no default naming a deleted key: the next key added is the default', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { org, path } = await racer();
      const [patched, deleted] = await Promise.all([
        api('PATCH', path, { token: owner.accessToken, body: { isDefault: true } }),
        api('DELETE', path, { token: owner.accessToken }),
      ]);
      outcomes.push(`${patched.status}/${deleted.status}`);
      // A deletion that another change got to first is a 409 (retry): retried, as a client would.
      if (deleted.status === 409) expect((await api('DELETE', path, { token: owner.accessToken })).status).toBe(204);
      expect((await api('GET', path, { token: owner.accessToken })).status).toBe(404);
      const next = await api('POST', `/v1/orgs/${org}/provider-credentials`, {
        token: owner.accessToken,
        body: { label: 'Next', providerSlug: 'openai', key: secret() },
      });
      expect(next.status).toBe(201);
      const list = await api('GET', `/v1/orgs/${org}/provider-credentials`, { token: owner.accessToken });
      expect(
        {
          nextIsDefault: next.body.isDefault,
          defaults: list.body.items.filter((c: { isDefault: boolean }) => c.isDefault).length,
        },
        `iteration ${i}; PATCH/DELETE so far: ${outcomes.join(' ')}`,
      ).toEqual({ nextIsDefault: true, defaults: 1 });
      // A change first is a 200 and the deletion then a 409 or a 204; a deletion first, a 204 and the change a 404.
      expect([200, 404], outcomes.join(' ')).toContain(patched.status);
      expect([204, 409], outcomes.join(' ')).toContain(deleted.status);
    }
  }, 120_000);

  it('twice at once, is deleted once: one 204, the other a 404, and one audit event', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const { org, path } = await racer();
      const [a, b] = await Promise.all([
        api('DELETE', path, { token: owner.accessToken }),
        api('DELETE', path, { token: owner.accessToken }),
      ]);
      outcomes.push(`${a.status}/${b.status}`);
      const audit = await api('GET', `/v1/orgs/${org}/audit-events?action=provider-credential.deleted`, {
        token: owner.accessToken,
      });
      expect(
        { statuses: [a.status, b.status].sort(), deletions: audit.body.items.length },
        `iteration ${i}; so far ${outcomes.join(' ')}`,
      ).toEqual({ statuses: [204, 404], deletions: 1 });
    }
  }, 120_000);
});

describe('provider keys added at the same time', () => {
  type Created = { status: number; body: { credentialId: string; providerSlug: string; isDefault: boolean } };
  const add = (user: SignedInUser, org: string, label: string, providerSlug: string, extra: object = {}) =>
    api('POST', `/v1/orgs/${org}/provider-credentials`, {
      token: user.accessToken,
      body: { label, providerSlug, key: secret(), ...extra },
    }) as Promise<Created>;
  const defaultsOf = async (user: SignedInUser, org: string, providerSlug: string) => {
    const res = await api('GET', `/v1/orgs/${org}/provider-credentials?providerSlug=${providerSlug}&limit=100`, {
      token: user.accessToken,
    });
    return {
      all: res.body.items as Created['body'][],
      defaults: (res.body.items as Created['body'][]).filter((c) => c.isDefault),
    };
  };

  // api() fails any of these calls that goes past 3 DynamoDB requests.
  it('all land within the request budget; exactly one is the default, and it is the one that said so', async () => {
    const racer = await signUpUser('keys-race');
    const { orgId: org } = await createTeam(racer);
    const created = await Promise.all(Array.from({ length: 6 }, (_, i) => add(racer, org, `Key ${i}`, 'openai')));
    for (const res of created) expect(res.status, JSON.stringify(res.body)).toBe(201);
    const claimed = created.filter((res) => res.body.isDefault);
    expect(claimed).toHaveLength(1);
    const { all, defaults } = await defaultsOf(racer, org, 'openai');
    expect(all).toHaveLength(6);
    expect(defaults.map((c) => c.credentialId)).toEqual([claimed[0]!.body.credentialId]);
  });

  it('told to be the default at the same time, all land and one of them is', async () => {
    const racer = await signUpUser('keys-race-told');
    const { orgId: org } = await createTeam(racer);
    const created = await Promise.all(
      Array.from({ length: 4 }, (_, i) => add(racer, org, `Told ${i}`, 'openai', { isDefault: true })),
    );
    for (const res of created) expect(res.status, JSON.stringify(res.body)).toBe(201);
    const { defaults } = await defaultsOf(racer, org, 'openai');
    expect(defaults).toHaveLength(1);
    expect(created.map((res) => res.body.credentialId)).toContain(defaults[0]!.credentialId);
    // The default is one that answered so (each answer is true when given: see the integration tests for the race).
    const claimed = created.filter((res) => res.body.isDefault).map((res) => res.body.credentialId);
    expect(claimed).toContain(defaults[0]!.credentialId);
  });

  it('for several providers at once, as an organization’s first keys, each provider gets its default', async () => {
    const racer = await signUpUser('keys-race-mixed');
    const { orgId: org } = await createTeam(racer);
    const providers = ['openai', 'anthropic', 'google'];
    // The defaults item is created by one of them; the others learn it from their failed write and take their slot.
    const created = await Promise.all(providers.map((p) => add(racer, org, `${p} key`, p)));
    for (const res of created) expect(res.status, JSON.stringify(res.body)).toBe(201);
    for (const res of created) expect(res.body.isDefault).toBe(true);
    for (const p of providers) expect((await defaultsOf(racer, org, p)).defaults).toHaveLength(1);
  });
});

describe('a provider key write’s answer', () => {
  it('is the key as stored, for each owner: a creation and each change answer what a GET right after shows', async () => {
    const user = await signUpUser('keys-as-stored');
    const { orgId: team } = await createTeam(user);
    const provider = `prov-${randomUUID().slice(0, 8)}`;
    const saved = await asPlatformAdmin(admin, 'PUT', `/v1/admin/providers/${provider}`, {
      displayName: 'Keys as stored',
      adapter: 'openai',
      group: { name: 'Test' },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const byUser = (method: string, path: string, body?: unknown) => api(method, path, { token: user.accessToken, body });
    // The platform's default keys are one item: another suite's admin adding a key meanwhile makes a write a 409 to retry.
    const byAdmin = (method: string, path: string, body?: unknown) => asPlatformAdmin(admin, method, path, body);
    const owners = [
      { base: `/v1/orgs/${team}/provider-credentials`, send: byUser, providerSlug: 'openai' },
      { base: '/v1/me/provider-credentials', send: byUser, providerSlug: 'openai' },
      { base: '/v1/admin/provider-credentials', send: byAdmin, providerSlug: provider },
    ];
    for (const { base, send, providerSlug } of owners) {
      let id = '';
      const read = () => send('GET', `${base}/${id}`);
      const patch = (body: Record<string, unknown>) => () => send('PATCH', `${base}/${id}`, body);
      const create = async () => {
        const res = await send('POST', base, { label: 'As stored', providerSlug, key: secret() });
        id = res.body.credentialId;
        return res;
      };
      const steps: WriteAndRead[] = [
        [`${base}: create`, create, read],
        [`${base}: renamed`, patch({ label: 'Renamed' }), read],
        [`${base}: new key`, patch({ key: secret() }), read],
        [`${base}: quota set`, patch({ dailyQuota: 10, isDefault: false }), read],
        [`${base}: quota cleared`, patch({ dailyQuota: null }), read],
      ];
      await expectAnsweredAsStored(steps);
      // Deleted as read: its time as answered is the one stored, which the deletion's condition compares.
      expect((await send('DELETE', `${base}/${id}`)).status).toBe(204);
    }
  });
});
