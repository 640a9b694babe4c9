import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  errorPaths,
  platformAuditEvents,
  asPlatformAdmin,
  signUpPlatformAdmin,
  signUpUser,
  type SignedInUser,
} from '../helpers/api.ts';
import { expectAnsweredAsStored } from '../helpers/as-stored.ts';

let user: SignedInUser;
let admin: SignedInUser;

beforeAll(async () => {
  [user, admin] = await Promise.all([signUpUser('config-user'), signUpPlatformAdmin('config-admin')]);
});

/** A provider suffix no other test uses, so each test's keys are its own. */
const provider = () => `t${randomUUID().replace(/-/g, '').slice(0, 10)}`;
/**
 * Adds a provider to the catalogue: one item under optimistic locking, which other suites' admins
 * change at the same time (their concurrent write makes this one a 409 "changed meanwhile; retry").
 */
const saveProvider = (slug: string, body: Record<string, unknown>) =>
  asPlatformAdmin(admin, 'PUT', `/v1/admin/providers/${slug}`, body);
/** Such a provider, added to the catalogue: a per-provider key is saved only for a provider that exists. */
async function knownProvider(): Promise<string> {
  const slug = provider();
  const saved = await saveProvider(slug, {
    displayName: 'Config test',
    adapter: 'local',
    requiresApiKey: false,
    group: { name: 'Config' },
  });
  expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  return slug;
}
const chat = {
  enabled: true,
  model: 'default-chat',
  temperature: 0.5,
  maxTokens: 2048,
  streaming: true,
  rateLimits: { hourly: 10 },
};

describe('admin config', () => {
  it('is for platform admins only', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/admin/config', undefined],
      ['GET', '/v1/admin/config/routing_agent', undefined],
      ['PUT', `/v1/admin/config/chat_agent_${provider()}`, chat],
      ['GET', '/v1/admin/audit-events', undefined],
    ] as const)
      expect((await api(method, path, { token: user.accessToken, body })).status, `${method} ${path}`).toBe(403);
  });

  it('comes whole: the list refuses a limit or cursor rather than ignore it', async () => {
    const res = await api('GET', '/v1/admin/config?limit=2', { token: admin.accessToken });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'query.limit', message: 'This list comes whole: it takes no limit or cursor' }]);
  });

  it('serves the seed’s four keys from defaults until they are saved', async () => {
    const list = await api('GET', '/v1/admin/config', { token: admin.accessToken });
    expect(list.status).toBe(200);
    const keys = list.body.items.map((c: { configKey: string }) => c.configKey);
    expect(keys).toEqual(
      expect.arrayContaining(['routing_agent', 'chat_agent_google', 'artifact_agent_google', 'git_mcp_agent_google']),
    );
    const routing = await api('GET', '/v1/admin/config/routing_agent', { token: admin.accessToken });
    expect(routing.body).toMatchObject({
      configKey: 'routing_agent',
      family: 'routing_agent',
      data: { strategy: 'rules', defaultAgent: 'chat' },
    });
    expect((await api('GET', `/v1/admin/config/chat_agent_${provider()}`, { token: admin.accessToken })).status).toBe(404);
    expect((await api('GET', '/v1/admin/config/billing_agent', { token: admin.accessToken })).status).toBe(400);
  });

  it('validates each key against its family’s schema', async () => {
    const put = (key: string, body: unknown) => api('PUT', `/v1/admin/config/${key}`, { token: admin.accessToken, body });
    const wrong = await put(`chat_agent_${provider()}`, { ...chat, temperature: 5, strategy: 'cost', maxTokens: 'many' });
    expect(wrong.status).toBe(400);
    expect(errorPaths(wrong.body).sort()).toEqual(['body', 'body.maxTokens', 'body.temperature']);
    const git = await put(`git_mcp_agent_${provider()}`, {
      enabled: true,
      model: 'smart',
      access: 'admin',
      allowedOperations: ['rm -rf'],
    });
    expect(errorPaths(git.body).sort()).toEqual(['body.access', 'body.allowedOperations.0']);
    const artifact = await put(`artifact_agent_${await knownProvider()}`, {
      enabled: true,
      model: 'smart',
      kinds: ['code', 'sheet'],
    });
    expect(artifact.status).toBe(200);
    expect(artifact.body).toMatchObject({
      family: 'artifact_agent',
      isDefault: false,
      version: 1,
      data: { kinds: ['code', 'sheet'] },
    });
    expect((await put('chat_agent_UPPER', chat)).status).toBe(400);
    expect(
      (
        await api('PUT', `/v1/admin/config/chat_agent_${provider()}`, {
          token: admin.accessToken,
          rawBody: '[]',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(400);
  });

  it('refuses a routing_agent whose default agent is not among its agents, and a key for a provider that does not exist', async () => {
    const routing = await api('PUT', '/v1/admin/config/routing_agent', {
      token: admin.accessToken,
      body: { enabled: true, model: 'fast', strategy: 'rules', agents: ['chat'], defaultAgent: 'git_mcp' },
    });
    expect(routing.status).toBe(400);
    expect(errorPaths(routing.body)).toEqual(['body.defaultAgent']);
    expect((await api('GET', '/v1/admin/config/routing_agent', { token: admin.accessToken })).body.data.defaultAgent).not.toBe(
      'git_mcp',
    );

    const unknown = await api('PUT', '/v1/admin/config/chat_agent_nosuchprovider', { token: admin.accessToken, body: chat });
    expect(unknown.status).toBe(404);
    expect(errorPaths(unknown.body)).toEqual(['params.configKey']);
    // A provider slug with a dash is a valid key, once the provider exists.
    const slug = `my-${provider()}`;
    const saved = await saveProvider(slug, {
      displayName: 'Dashed',
      adapter: 'local',
      requiresApiKey: false,
      group: { name: 'Dashed' },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const dashed = await api('PUT', `/v1/admin/config/chat_agent_${slug}`, { token: admin.accessToken, body: chat });
    expect(dashed.status, JSON.stringify(dashed.body)).toBe(200);
    expect(dashed.body).toMatchObject({ configKey: `chat_agent_${slug}`, family: 'chat_agent', version: 1 });
  });

  it('records every change with who made it and what it was before and after', async () => {
    const since = Date.now();
    const key = `chat_agent_${await knownProvider()}`;
    const first = await api('PUT', `/v1/admin/config/${key}`, { token: admin.accessToken, body: chat });
    expect(first.body).toMatchObject({ configKey: key, version: 1, updatedBy: admin.userId, data: chat });
    const second = await api('PUT', `/v1/admin/config/${key}`, { token: admin.accessToken, body: { ...chat, temperature: 0.1 } });
    expect(second.body).toMatchObject({ version: 2, data: { temperature: 0.1 } });
    expect((await api('GET', `/v1/admin/config/${key}`, { token: admin.accessToken })).body).toMatchObject({
      version: 2,
      data: { temperature: 0.1 },
    });
    const listed = await api('GET', '/v1/admin/config', { token: admin.accessToken });
    expect(listed.body.items.find((c: { configKey: string }) => c.configKey === key)).toMatchObject({ version: 2 });

    // The platform's log is every suite's: read back past this test's start, not its newest page only.
    const changes = await platformAuditEvents(admin, key, since, 'admin-config.changed');
    expect(changes).toHaveLength(2);
    expect(changes[0]).toMatchObject({
      actorId: admin.userId,
      actorType: 'user',
      details: { before: { temperature: 0.5 }, after: { temperature: 0.1 } },
    });
    expect(changes[1]!.details).toMatchObject({ before: null, after: { temperature: 0.5 } });
  });

  it('saves over a seed default, which the audit records as the before', async () => {
    const since = Date.now();
    const before = await api('GET', '/v1/admin/config/artifact_agent_google', { token: admin.accessToken });
    const saved = await api('PUT', '/v1/admin/config/artifact_agent_google', {
      token: admin.accessToken,
      body: { ...before.body.data, temperature: 0.3 },
    });
    expect(saved.body).toMatchObject({ isDefault: false, version: before.body.version + 1, data: { temperature: 0.3 } });
    const [change] = await platformAuditEvents(admin, 'artifact_agent_google', since, 'admin-config.changed');
    expect(change!.details.before).toEqual(before.body.data);
  });
});

describe('a config save’s answer', () => {
  it('is the config as stored: its first save and each one after answer what a GET right after shows', async () => {
    const configKey = `chat_agent_${await knownProvider()}`;
    const path = `/v1/admin/config/${configKey}`;
    const read = () => api('GET', path, { token: admin.accessToken });
    const save = (temperature: number) => () => asPlatformAdmin(admin, 'PUT', path, { ...chat, temperature });
    await expectAnsweredAsStored([
      ['first save', save(0.1), read],
      ['second save', save(0.2), read],
      ['third save', save(0.3), read],
    ]);
  });
});
