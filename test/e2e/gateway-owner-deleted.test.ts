import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { orgKey, userKey } from '@platform/domain/hub/owners';
import { loadSnapshot } from '@platform/domain/hub/snapshot';
import { api, addMember, signUpUser, type SignedInUser } from '../helpers/api.ts';
import { gateway, strategyOrg } from '../helpers/gateway.ts';
import { useFakeProvider } from '../helpers/use-fake-provider.ts';

/**
 * The owner of a BYOK key (an organization, a user) deleted while a call through the key waits
 * for its retry: once the deletion answered, no attempt sends the deleted owner's key, as if the
 * key itself were deleted (README: a key withdrawn since the call was routed is not sent). Other
 * instances see it from the owner's snapshot, as read afresh (within its TTL).
 */
const fake = useFakeProvider();
const messages = [{ role: 'user', content: 'Still there?' }];
const secret = () => `sk-own-${randomUUID().replace(/-/g, '')}`;
const SLOW_FAILURE = { kind: 'fail', status: 500, delayMs: 2_000 } as const;
const waitFor = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
};
const authorizations = (from: number) =>
  fake()
    .requests.slice(from)
    .map((r) => r.headers.authorization);

/** A key of `path`'s owner, made the default for openai, and a call through it that fails slowly once. */
async function callInFlight(caller: SignedInUser, path: string, orgId: string, model: string) {
  const key = secret();
  const created = await api('POST', path, {
    token: caller.accessToken,
    body: { label: 'Own', providerSlug: 'openai', key, baseUrl: fake().baseUrl('openai') },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const from = fake().received();
  fake().script(model, SLOW_FAILURE);
  const pending = gateway(
    '/chat/completions',
    { token: caller.accessToken },
    { model, messages },
    { 'openai-organization': orgId },
  );
  await waitFor(() => fake().received() === from + 1);
  expect(authorizations(from)).toEqual([`Bearer ${key}`]);
  return { key, from, pending };
}

describe('the owner of a BYOK key deleted while a call through the key waits for its retry', () => {
  it('an organization deleted (204): the retry does not send its key, and its snapshot lists no keys', async () => {
    const owner = await signUpUser('ownd-org');
    const orgId = await strategyOrg(owner, 'BYOK');
    const { key, from, pending } = await callInFlight(owner, `/v1/orgs/${orgId}/provider-credentials`, orgId, 'gpt-4o-mini');
    expect((await api('DELETE', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(204);
    const res = await pending;
    expect(res.status).not.toBe(500);
    expect(authorizations(from), res.headers.get('x-route') ?? '').toEqual([`Bearer ${key}`]);
    // What another instance reads once its cached snapshot expires.
    const snapshot = await loadSnapshot(orgKey(orgId));
    expect(snapshot.credentials).toEqual([]);
    expect(snapshot.defaults).toEqual({});
    expect(snapshot.deletedAt).toEqual(expect.any(String));
  });

  it('an account deleted (DELETE /v1/me 204): the retry does not send the user’s own key', async () => {
    const teamOwner = await signUpUser('ownd-own');
    const member = await signUpUser('ownd-mem');
    const orgId = await strategyOrg(teamOwner, 'BYOK');
    await addMember(teamOwner, orgId, member, 'editor');
    const { key, from, pending } = await callInFlight(member, '/v1/me/provider-credentials', orgId, 'gpt-4o');
    expect((await api('DELETE', '/v1/me', { token: member.accessToken })).status).toBe(204);
    const res = await pending;
    expect(res.status).not.toBe(500);
    expect(authorizations(from), res.headers.get('x-route') ?? '').toEqual([`Bearer ${key}`]);
    expect((await loadSnapshot(userKey(member.userId))).credentials).toEqual([]);
  });

  it('an account deleted: the retry does not send its personal organization’s key either', async () => {
    const user = await signUpUser('ownd-solo');
    const orgId = user.personalOrgId;
    const strategy = await api('PATCH', `/v1/orgs/${orgId}`, { token: user.accessToken, body: { apiKeyStrategy: 'BYOK' } });
    expect(strategy.status, JSON.stringify(strategy.body)).toBe(200);
    const { key, from, pending } = await callInFlight(user, `/v1/orgs/${orgId}/provider-credentials`, orgId, 'gpt-4o-mini');
    expect((await api('DELETE', '/v1/me', { token: user.accessToken })).status).toBe(204);
    const res = await pending;
    expect(res.status).not.toBe(500);
    expect(authorizations(from), res.headers.get('x-route') ?? '').toEqual([`Bearer ${key}`]);
    expect((await loadSnapshot(orgKey(orgId))).credentials).toEqual([]);
  });
});
