import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, clearOfPeriodEnd, signUpPlatformAdmin, signUpUser, type SignedInUser } from '../helpers/api.ts';
import { fakePlatformModel, gateway, readStream, strategyOrg, stream, usageOf } from '../helpers/gateway.ts';
import { useFakeProvider } from '../helpers/use-fake-provider.ts';

/**
 * An owner changing a key the gateway uses, end to end over HTTP (the local server is one
 * process, so a change is seen there at once, as README promises for the process that made it):
 * - a key fixed by its owner (rotated after the provider refused the old one, or its spent quota
 *   raised) serves the next call at once, not the platform's key (charged) for a cooldown;
 * - a key deleted, deactivated or rotated while a call through it is between two attempts is
 *   not sent again: the retry falls back as for a refused key, to the platform's under HYBRID.
 */
const fake = useFakeProvider();
const messages = [{ role: 'user', content: 'Is the key still good?' }];
const secret = () => `sk-change-${randomUUID().replace(/-/g, '')}`;

let owner: SignedInUser;
let admin: SignedInUser;
beforeAll(async () => {
  [owner, admin] = await Promise.all([signUpUser('keychg'), signUpPlatformAdmin('keychgadm')]);
});

/** An organization's key for `providerSlug`, pointing at the fake provider. */
async function ownKey(orgId: string, providerSlug: string, extra: Record<string, unknown> = {}) {
  const key = secret();
  const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
    token: owner.accessToken,
    body: { label: 'Own', providerSlug, key, baseUrl: fake().baseUrl('openai'), ...extra },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return { key, credentialId: created.body.credentialId as string };
}

const changeKey = (orgId: string, credentialId: string, body: Record<string, unknown>) =>
  api('PATCH', `/v1/orgs/${orgId}/provider-credentials/${credentialId}`, { token: owner.accessToken, body });

/** A HYBRID organization with its own key for a platform model whose platform key is `platformKey`. */
async function hybrid(extra: Record<string, unknown> = {}) {
  const platformKey = secret();
  const model = await fakePlatformModel(admin, fake().baseUrl('openai'), { platformKey });
  const orgId = await strategyOrg(owner, 'HYBRID');
  const own = await ownKey(orgId, model.slug, extra);
  const call = () => gateway('/chat/completions', { token: owner.accessToken }, { model: model.modelId, messages }, asOrg(orgId));
  return { ...model, orgId, own, platformKey, call };
}

const asOrg = (orgId: string) => ({ 'openai-organization': orgId });
const authorizations = (from = 0) =>
  fake()
    .requests.slice(from)
    .map((r) => r.headers.authorization);
const waitFor = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
};
/** The first attempt's answer, slow enough to change the key while the call waits for it. */
const SLOW_FAILURE = { kind: 'fail', status: 500, delayMs: 2_000 } as const;

describe('HYBRID: an own key fixed by its owner serves the next call at once', () => {
  it('a key rotated after the provider refused the old one is tried at once, not skipped as cooling', async () => {
    const { orgId, own, platformKey, providerModelId, call } = await hybrid();
    fake().script(providerModelId, { kind: 'fail', status: 401, message: 'Incorrect API key provided' });
    const refused = await call();
    expect(refused.status, JSON.stringify(refused.body)).toBe(200);
    expect(authorizations()).toEqual([`Bearer ${own.key}`, `Bearer ${platformKey}`]);

    const rotated = secret();
    expect((await changeKey(orgId, own.credentialId, { key: rotated })).status).toBe(200);
    const next = await call();
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    const route = next.headers.get('x-route')!;
    expect(route).not.toContain('cooling');
    expect(authorizations(2), route).toEqual([`Bearer ${rotated}`]);
    const logs = await usageOf(owner, orgId, 2);
    expect(logs.map((l) => [l.metadata.keySource, l.credits > 0]).sort()).toEqual([
      ['byok', false],
      ['platform', true],
    ]);
  });

  it('a spent quota cools nothing down: the calls past it fall back one by one, and a raised quota serves the next', async () => {
    await clearOfPeriodEnd(3_600_000, 60_000);
    const { orgId, own, platformKey, call } = await hybrid({ dailyQuota: 1 });
    for (let i = 0; i < 5; i++) expect((await call()).status).toBe(200);
    expect(authorizations()).toEqual([`Bearer ${own.key}`, ...Array(4).fill(`Bearer ${platformKey}`)]);
    const past = await call();
    // Refused by its quota (throttled), as each call past it is, never skipped as a failing target.
    expect(past.headers.get('x-route')).toMatch(/1:fake-model-\S+ throttled \d+ms, 2:fake-model-\S+ ok/);

    expect((await changeKey(orgId, own.credentialId, { dailyQuota: 100 })).status).toBe(200);
    const raised = await call();
    expect(raised.status).toBe(200);
    expect(fake().requests.at(-1)!.headers.authorization, raised.headers.get('x-route')!).toBe(`Bearer ${own.key}`);
  });
});

describe('a key changed while a call through it is between two attempts', () => {
  it('deleted: the retry does not send it; the call ends as the key refused (502), logged', async () => {
    const orgId = await strategyOrg(owner, 'BYOK');
    const own = await ownKey(orgId, 'openai');
    fake().script('gpt-4o-mini', SLOW_FAILURE);
    const pending = gateway('/chat/completions', { token: owner.accessToken }, { model: 'gpt-4o-mini', messages }, asOrg(orgId));
    await waitFor(() => fake().received() === 1);
    const deleted = await api('DELETE', `/v1/orgs/${orgId}/provider-credentials/${own.credentialId}`, {
      token: owner.accessToken,
    });
    expect(deleted.status).toBe(204);
    const res = await pending;
    expect(authorizations()).toEqual([`Bearer ${own.key}`]);
    expect(res.status).toBe(502);
    expect(res.body.error.message).toContain('was deleted while this call ran');
    expect(res.headers.get('x-route')).toMatch(/1:gpt-4o-mini server\/500 \d+ms, 1:gpt-4o-mini auth \d+ms$/);
    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({ status: 'error', credits: 0, metadata: { keySource: 'byok', errorType: 'auth' } });
  });

  it('rotated under HYBRID: the retry goes to the platform’s key, not the old key', async () => {
    const { orgId, own, platformKey, providerModelId, call } = await hybrid();
    fake().script(providerModelId, SLOW_FAILURE);
    const pending = call();
    await waitFor(() => fake().received() === 1);
    const rotated = secret();
    expect((await changeKey(orgId, own.credentialId, { key: rotated })).status).toBe(200);
    const res = await pending;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(authorizations(), res.headers.get('x-route')!).toEqual([`Bearer ${own.key}`, `Bearer ${platformKey}`]);
    const [log] = await usageOf(owner, orgId, 1);
    expect(log!.metadata.keySource).toBe('platform');

    // The rotated key was withdrawn from that call only: the next call is its own.
    expect((await call()).status).toBe(200);
    expect(fake().requests.at(-1)!.headers.authorization).toBe(`Bearer ${rotated}`);
  });

  it('deactivated while a stream waits for its retry: the retry does not send it', async () => {
    const orgId = await strategyOrg(owner, 'BYOK');
    const own = await ownKey(orgId, 'openai');
    fake().script('gpt-4o', SLOW_FAILURE);
    const pending = stream(owner.accessToken, { model: 'gpt-4o', messages, stream: true }, undefined, asOrg(orgId));
    await waitFor(() => fake().received() === 1);
    expect((await changeKey(orgId, own.credentialId, { isActive: false })).status).toBe(200);
    const res = await pending;
    if (res.ok) await readStream(res);
    else await res.text();
    expect(res.status).toBe(502);
    expect(authorizations()).toEqual([`Bearer ${own.key}`]);
  });

  it('relabelled: a change that sends nothing new leaves the retry on the key', async () => {
    const orgId = await strategyOrg(owner, 'BYOK');
    const own = await ownKey(orgId, 'openai');
    fake().script('gpt-4o-mini', SLOW_FAILURE);
    const pending = gateway('/chat/completions', { token: owner.accessToken }, { model: 'gpt-4o-mini', messages }, asOrg(orgId));
    await waitFor(() => fake().received() === 1);
    expect((await changeKey(orgId, own.credentialId, { label: 'Renamed', dailyQuota: 1_000 })).status).toBe(200);
    const res = await pending;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(authorizations()).toEqual([`Bearer ${own.key}`, `Bearer ${own.key}`]);
    await usageOf(owner, orgId, 1);
  });
});
