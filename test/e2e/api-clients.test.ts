import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { db } from '@platform/domain/identity/entities';
import { api, createTeam, errorPaths, signUpPlatformAdmin, signUpUser, type SignedInUser } from '../helpers/api.ts';

const KEY = /^(ak_[0-9a-z]{26})\.([A-Za-z0-9_-]{43})$/;

const createClient = (by: SignedInUser, orgId: string, body: Record<string, unknown>) =>
  api('POST', `/v1/orgs/${orgId}/api-clients`, { token: by.accessToken, body });

async function teamWithClient(scopes: string[]) {
  const owner = await signUpUser('apiowner');
  const team = await createTeam(owner);
  const created = await createClient(owner, team.orgId, { name: 'CI pipeline', scopes });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return { owner, ...team, client: created.body as { clientId: string; key: string } & Record<string, unknown> };
}

describe.concurrent('creating an API client', () => {
  it('shows the key once, in the ak_<id>.<secret> format, and never again', async () => {
    const { owner, orgId, client } = await teamWithClient(['org:read', 'members:read']);
    expect(client.key).toMatch(KEY);
    expect(KEY.exec(client.key)![1]).toBe(client.clientId);
    expect(client).toMatchObject({
      orgId,
      name: 'CI pipeline',
      scopes: ['members:read', 'org:read'],
      isActive: true,
      createdBy: owner.userId,
    });
    expect(client.keyPreview).toContain(client.clientId);
    expect(client.keyPreview).not.toBe(client.key);
    expect(client).not.toHaveProperty('secretHash');

    const list = await api('GET', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const [listed] = list.body.items;
    expect(listed).toMatchObject({
      clientId: client.clientId,
      keyPreview: client.keyPreview,
      scopes: ['members:read', 'org:read'],
    });
    expect(listed).not.toHaveProperty('key');
    expect(listed).not.toHaveProperty('secretHash');
    expect(JSON.stringify(list.body)).not.toContain(KEY.exec(client.key)![2]);
  });

  it('refuses scopes beyond the creator’s permissions (403), unknown scopes (400) and a past expiry (400)', async () => {
    const owner = await signUpUser('apibeyond');
    const admin = await signUpUser('apibeyond-a');
    const editor = await signUpUser('apibeyond-e');
    const { orgId } = await createTeam(owner, [
      { user: admin, role: 'admin' },
      { user: editor, role: 'editor' },
    ]);
    expect((await createClient(admin, orgId, { name: 'Too strong', scopes: ['org:read', 'org:delete'] })).status).toBe(403);
    const unknown = await createClient(admin, orgId, { name: 'Unknown', scopes: ['org:read', 'bank:withdraw'] });
    expect(unknown.status).toBe(400);
    expect(errorPaths(unknown.body).some((p) => p.startsWith('body.scopes'))).toBe(true);
    expect(
      (
        await createClient(admin, orgId, {
          name: 'Past',
          scopes: ['org:read'],
          expiresAt: new Date(Date.now() - 1000).toISOString(),
        })
      ).status,
    ).toBe(400);
    // Editors may not create clients at all.
    expect((await createClient(editor, orgId, { name: 'Editor key', scopes: ['org:read'] })).status).toBe(403);
    const list = await api('GET', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken });
    expect(list.body.items).toEqual([]);
  });
});

describe.concurrent('creating an API client with an Idempotency-Key', () => {
  it('never shows the key again: a replay is a 409 naming the client created, and no second client is made', async () => {
    const owner = await signUpUser('apiidem');
    const { orgId } = await createTeam(owner);
    const headers = { 'idempotency-key': `ci-key-${randomUUID()}` };
    const body = { name: 'CI', scopes: ['org:read'] };
    const first = await api('POST', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken, body, headers });
    expect(first.status).toBe(201);
    expect(first.body.key).toMatch(KEY);

    const again = await api('POST', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken, body, headers });
    expect(again.status).toBe(409);
    expect(again.body.key).toBeUndefined();
    expect(JSON.stringify(again.body)).not.toContain(first.body.key.split('.')[1]);
    expect(again.body.detail).toContain(first.body.clientId);
    expect(again.body.detail).toMatch(/created by the earlier request with this Idempotency-Key.*shown only/);
    const list = await api('GET', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken });
    expect(list.body.items.map((c: { clientId: string }) => c.clientId)).toEqual([first.body.clientId]);
  });

  it('keeps keys apart per organization: the same key and body on another organization creates its own client there', async () => {
    const owner = await signUpUser('apiidem-2');
    const [a, b] = [await createTeam(owner), await createTeam(owner)];
    const headers = { 'idempotency-key': `ci-key-${randomUUID()}` };
    const body = { name: 'CI', scopes: ['org:read'] };
    const inA = await api('POST', `/v1/orgs/${a.orgId}/api-clients`, { token: owner.accessToken, body, headers });
    const inB = await api('POST', `/v1/orgs/${b.orgId}/api-clients`, { token: owner.accessToken, body, headers });
    expect(inA.status).toBe(201);
    expect(inB.status).toBe(201);
    expect(inB.headers.get('idempotent-replayed')).toBeNull();
    expect(inB.body).toMatchObject({ orgId: b.orgId });
    expect((await api('GET', `/v1/orgs/${b.orgId}`, { apiKey: inB.body.key })).status).toBe(200);
  });
});

describe.concurrent('calling with an API key', () => {
  it('works as x-api-key and as a Bearer token, within its scopes only', async () => {
    const { orgId, client } = await teamWithClient(['org:read', 'members:read']);
    for (const auth of [{ apiKey: client.key }, { token: client.key }]) {
      const org = await api('GET', `/v1/orgs/${orgId}`, auth);
      expect(org.status).toBe(200);
      expect(org.body.orgId).toBe(orgId);
      expect((await api('GET', `/v1/orgs/${orgId}/members`, auth)).status).toBe(200);
      expect((await api('PATCH', `/v1/orgs/${orgId}`, { ...auth, body: { name: 'By key' } })).status).toBe(403);
      expect((await api('GET', `/v1/orgs/${orgId}/api-clients`, auth)).status).toBe(403);
    }
  });

  it('is none when its header is empty: the Bearer token beside it is the credential', async () => {
    const owner = await signUpUser('apiempty');
    const { orgId } = await createTeam(owner);
    const org = await api('GET', `/v1/orgs/${orgId}`, { token: owner.accessToken, headers: { 'x-api-key': '' } });
    expect(org.status).toBe(200);
    expect(org.body.orgId).toBe(orgId);
  });

  it('gets 404 on another organization', async () => {
    const { client } = await teamWithClient(['org:read', 'members:read']);
    const other = await signUpUser('apiother');
    const { orgId: otherOrg } = await createTeam(other);
    expect((await api('GET', `/v1/orgs/${otherOrg}`, { apiKey: client.key })).status).toBe(404);
    expect((await api('GET', `/v1/orgs/${otherOrg}/members`, { apiKey: client.key })).status).toBe(404);
    expect((await api('GET', `/v1/orgs/${other.personalOrgId}`, { token: client.key })).status).toBe(404);
  });

  it('is refused on routes for signed-in users only', async () => {
    const { orgId, client } = await teamWithClient(['org:read', 'members:read', 'org:update', 'org:delete']);
    for (const auth of [{ apiKey: client.key }, { token: client.key }]) {
      expect([401, 403]).toContain((await api('GET', '/v1/me', auth)).status);
      expect([401, 403]).toContain((await api('GET', '/v1/orgs', auth)).status);
      expect([401, 403]).toContain(
        (await api('POST', '/v1/orgs', { ...auth, body: { name: 'Key org', slug: `key-${Date.now()}` } })).status,
      );
      expect([401, 403]).toContain((await api('DELETE', `/v1/orgs/${orgId}`, auth)).status);
    }
  });

  it('refuses a key with the right id but a wrong secret (401)', async () => {
    const { orgId, client } = await teamWithClient(['org:read']);
    const forged = `${client.clientId}.${'A'.repeat(43)}`;
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: forged })).status).toBe(401);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: 'ak_garbage' })).status).toBe(401);
  });

  it('records when the key was last used', async () => {
    const { owner, orgId, client } = await teamWithClient(['org:read']);
    expect(client.lastUsedAt).toBeUndefined();
    const before = Date.now();
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: client.key })).status).toBe(200);
    const list = await api('GET', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken });
    const lastUsedAt = list.body.items[0].lastUsedAt;
    expect(lastUsedAt).toEqual(expect.any(String));
    expect(Date.parse(lastUsedAt)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('stops working once past its expiry (401)', async () => {
    const { orgId, client } = await teamWithClient(['org:read']);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: client.key })).status).toBe(200);
    await db.apiClient
      .patch({ clientId: client.clientId })
      .set({ expiresAt: new Date(Date.now() - 1000).toISOString() })
      .go();
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: client.key })).status).toBe(401);
  });

  it('a key that may create keys cannot create one stronger than itself (403)', async () => {
    const { orgId, client } = await teamWithClient(['org:read', 'api-clients:create']);
    const weaker = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      apiKey: client.key,
      body: { name: 'child', scopes: ['org:read'] },
    });
    expect(weaker.status).toBe(201);
    expect(weaker.body.createdBy).toBe(client.clientId);
    const stronger = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      apiKey: client.key,
      body: { name: 'child2', scopes: ['org:update'] },
    });
    expect(stronger.status).toBe(403);
  });

  it('a key that expires makes keys that expire with it: left out, the expiry is its own; a later one is refused (422)', async () => {
    const owner = await signUpUser('apiexpiry');
    const { orgId } = await createTeam(owner);
    const parentExpiry = new Date(Date.now() + 3_600_000).toISOString();
    const parent = await createClient(owner, orgId, {
      name: 'contractor, one hour',
      scopes: ['org:read', 'api-clients:create'],
      expiresAt: parentExpiry,
    });
    expect(parent.status).toBe(201);
    const makeChild = (body: Record<string, unknown>) =>
      api('POST', `/v1/orgs/${orgId}/api-clients`, { apiKey: parent.body.key, body: { scopes: ['org:read'], ...body } });

    const inherits = await makeChild({ name: 'no expiry asked' });
    expect([inherits.status, inherits.body.expiresAt]).toEqual([201, parentExpiry]);
    const sooner = new Date(Date.now() + 600_000).toISOString();
    const shorter = await makeChild({ name: 'ten minutes', expiresAt: sooner });
    expect([shorter.status, shorter.body.expiresAt]).toEqual([201, sooner]);
    const later = await makeChild({ name: 'outlives it', expiresAt: new Date(Date.now() + 7_200_000).toISOString() });
    expect(later.status).toBe(422);
    expect(later.body.detail).toContain('cannot outlive it');
    expect(errorPaths(later.body)).toEqual(['body.expiresAt']);

    // The list shows what was made: two keys bounded by the parent's expiry, and no third.
    const list = await api('GET', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken });
    const children = list.body.items.filter((c: { createdBy: string }) => c.createdBy === parent.body.clientId);
    expect(children.map((c: { expiresAt: string }) => c.expiresAt).sort()).toEqual([sooner, parentExpiry].sort());
    // A key that never expires still makes keys that never expire.
    const forever = await createClient(owner, orgId, { name: 'forever', scopes: ['org:read', 'api-clients:create'] });
    const child = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      apiKey: forever.body.key,
      body: { name: 'forever child', scopes: ['org:read'] },
    });
    expect([child.status, child.body.expiresAt]).toEqual([201, undefined]);
  });

  it('a key made by a key that expires stops working when that key does (401)', async () => {
    const owner = await signUpUser('apiexpiry-use');
    const { orgId } = await createTeam(owner);
    const expiresAt = new Date(Date.now() + 4_000).toISOString();
    const parent = await createClient(owner, orgId, {
      name: 'short-lived',
      scopes: ['org:read', 'api-clients:create'],
      expiresAt,
    });
    const child = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      apiKey: parent.body.key,
      body: { name: 'child', scopes: ['org:read'] },
    });
    expect(child.status).toBe(201);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: child.body.key })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(expiresAt) - Date.now() + 500));
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: parent.body.key })).status).toBe(401);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: child.body.key })).status).toBe(401);
  });

  it('a key that may change members cannot make an owner nor hand out admin (403)', async () => {
    const owner = await signUpUser('apimembers');
    const member = await signUpUser('apimembers-m');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'viewer' }]);
    const { body: client } = await createClient(owner, orgId, { name: 'HR sync', scopes: ['members:read', 'members:update'] });
    const asOwner = await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, {
      apiKey: client.key,
      body: { role: 'owner' },
    });
    expect(asOwner.status).toBe(403);
    const asAdmin = await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, {
      apiKey: client.key,
      body: { role: 'admin' },
    });
    expect(asAdmin.status).toBe(403);
    const asEditor = await api('PATCH', `/v1/orgs/${orgId}/members/${owner.userId}`, {
      apiKey: client.key,
      body: { role: 'editor' },
    });
    expect(asEditor.status).toBe(403);
    const members = await api('GET', `/v1/orgs/${orgId}/members`, { apiKey: client.key });
    expect(members.body.items.find((m: { userId: string }) => m.userId === member.userId).role).toBe('viewer');
  });
});

describe.concurrent('revoking an API client', () => {
  it('makes the key fail with 401 and shows the client as revoked', async () => {
    const { owner, orgId, client } = await teamWithClient(['org:read']);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: client.key })).status).toBe(200);
    const res = await api('DELETE', `/v1/orgs/${orgId}/api-clients/${client.clientId}`, { token: owner.accessToken });
    expect(res.status).toBe(204);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: client.key })).status).toBe(401);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: client.key })).status).toBe(401);
    const list = await api('GET', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken });
    expect(list.body.items[0]).toMatchObject({ clientId: client.clientId, isActive: false, revokedAt: expect.any(String) });
    expect((await api('DELETE', `/v1/orgs/${orgId}/api-clients/${client.clientId}`, { token: owner.accessToken })).status).toBe(
      409,
    );
  });

  it('cannot be done from another organization (404) nor by an editor (403)', async () => {
    const { owner, orgId, client } = await teamWithClient(['org:read']);
    const editor = await signUpUser('apirevoke-e');
    const other = await createTeam(owner, [{ user: editor, role: 'editor' }]);
    expect(
      (await api('DELETE', `/v1/orgs/${other.orgId}/api-clients/${client.clientId}`, { token: owner.accessToken })).status,
    ).toBe(404);
    const { body: otherClient } = await createClient(owner, other.orgId, { name: 'other', scopes: ['org:read'] });
    expect(
      (await api('DELETE', `/v1/orgs/${other.orgId}/api-clients/${otherClient.clientId}`, { token: editor.accessToken })).status,
    ).toBe(403);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: client.key })).status).toBe(200);
    expect((await api('GET', `/v1/orgs/${other.orgId}`, { apiKey: otherClient.key })).status).toBe(200);
  });
});

/** Routes outside `/v1/orgs/{orgId}/…` that take an API key: the catalogue. */
const CATALOGUE = ['/v1/models', '/v1/models/local-chat', '/v1/providers'];
const catalogueKey = async (by: SignedInUser, orgId: string, scopes: string[]) => {
  const res = await api('POST', `/v1/orgs/${orgId}/api-clients`, { token: by.accessToken, body: { name: 'Catalogue', scopes } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { clientId: string; key: string };
};
const statusesOf = async (paths: string[], key: string) =>
  Object.fromEntries(
    await Promise.all(paths.map(async (path) => [path, (await api('GET', path, { apiKey: key })).status] as const)),
  );

describe.concurrent('an API key on routes outside its organization’s paths (the catalogue)', () => {
  it('of a suspended member answers 401 there too, as on its organization’s routes', async () => {
    const [owner, admin] = await Promise.all([signUpUser('ak-cat-susp'), signUpUser('ak-cat-susp-a')]);
    const { orgId } = await createTeam(owner, [{ user: admin, role: 'admin' }]);
    const { key } = await catalogueKey(admin, orgId, ['org:read', 'models:read']);
    expect(await statusesOf(CATALOGUE, key)).toEqual(Object.fromEntries(CATALOGUE.map((path) => [path, 200])));
    const suspended = await api('PATCH', `/v1/orgs/${orgId}/members/${admin.userId}`, {
      token: owner.accessToken,
      body: { isActive: false },
    });
    expect(suspended.status).toBe(200);
    expect(await statusesOf([`/v1/orgs/${orgId}`, ...CATALOGUE], key)).toEqual(
      Object.fromEntries([`/v1/orgs/${orgId}`, ...CATALOGUE].map((path) => [path, 401])),
    );
  });

  it('counts `api` against the key’s limits there too: a key limited to 0 calls an hour gets 429', async () => {
    const [owner, platformAdmin] = await Promise.all([signUpUser('ak-cat-lim'), signUpPlatformAdmin('ak-cat-lim-pa')]);
    const { orgId } = await createTeam(owner);
    const { clientId, key } = await catalogueKey(owner, orgId, ['org:read', 'models:read']);
    const set = await api('PUT', `/v1/admin/orgs/${orgId}/limits`, {
      token: platformAdmin.accessToken,
      body: { subject: `client#${clientId}`, resource: 'api', hourly: 0 },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const paths = [`/v1/orgs/${orgId}`, ...CATALOGUE, `/v1/models?orgId=${orgId}`];
    expect(await statusesOf(paths, key)).toEqual(Object.fromEntries(paths.map((path) => [path, 429])));
  });

  it('naming its own organization (`?orgId=`) acts within its scopes, and another organization is a 404', async () => {
    const [owner, stranger] = await Promise.all([signUpUser('ak-cat-org'), signUpUser('ak-cat-org-s')]);
    const [{ orgId }, { orgId: otherOrg }] = await Promise.all([createTeam(owner), createTeam(stranger)]);
    const [reader, unscoped] = await Promise.all([
      catalogueKey(owner, orgId, ['org:read', 'models:read']),
      catalogueKey(owner, orgId, ['org:read']),
    ]);
    const own = [`/v1/models?orgId=${orgId}`, `/v1/models/local-chat?orgId=${orgId}`];
    expect(await statusesOf(own, reader.key)).toEqual(Object.fromEntries(own.map((path) => [path, 200])));
    const refused = await api('GET', own[0]!, { apiKey: unscoped.key });
    expect([refused.status, refused.body.detail]).toEqual([403, 'This API client lacks the scope models:read']);
    expect((await api('GET', `/v1/models?orgId=${otherOrg}`, { apiKey: reader.key })).status).toBe(404);
  });
});
