import { describe, expect, it } from 'vitest';
import { marshall } from '@aws-sdk/util-dynamodb';
import { revokeKeysOfDeparted } from '@platform/domain/identity/departures';
import { db } from '@platform/domain/identity/entities';
import { BUILT_IN_ROLE_PERMISSIONS } from '@platform/domain/identity/permissions';
import type { StreamRecord } from '@platform/domain/shared/streams';
import { addMember, api, createTeam, eventually, signUpPlatformAdmin, signUpUser, type SignedInUser } from '../helpers/api.ts';

/**
 * An API client acts for the member who created it: never beyond that member's current
 * permissions (checked at every call), and revoked once the member leaves (from the table's
 * stream, audited as done by the system).
 */
const createKey = async (by: SignedInUser, orgId: string, scopes: readonly string[]) => {
  const res = await api('POST', `/v1/orgs/${orgId}/api-clients`, { token: by.accessToken, body: { name: 'Pipeline', scopes } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { clientId: string; key: string; memberId: string; createdBy: string };
};

const setRole = async (by: SignedInUser, orgId: string, userId: string, body: Record<string, unknown>) => {
  const res = await api('PATCH', `/v1/orgs/${orgId}/members/${userId}`, { token: by.accessToken, body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
};

/** `GET …/credits` needs `billing:read`: editors have it, viewers do not. */
const readCredits = (key: string, orgId: string) => api('GET', `/v1/orgs/${orgId}/credits`, { apiKey: key });
const readMembers = (key: string, orgId: string) => api('GET', `/v1/orgs/${orgId}/members`, { apiKey: key });

/** The key as its organization's list shows it, once the stream has revoked it. */
const revokedInList = (owner: SignedInUser, orgId: string, clientId: string) =>
  eventually(
    () => api('GET', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken }),
    (res) => !!res.body.items.find((c: { clientId: string; revokedAt?: string }) => c.clientId === clientId)?.revokedAt,
    15_000,
  ).then((res) => res.body.items.find((c: { clientId: string }) => c.clientId === clientId));

describe.concurrent('an API key acts within its member’s current permissions', () => {
  it('loses editor powers when its admin is demoted to viewer, keeps what a viewer may do, and regains them on promotion', async () => {
    const owner = await signUpUser('keydemote');
    const admin = await signUpUser('keydemote-a');
    const { orgId } = await createTeam(owner, [{ user: admin, role: 'admin' }]);
    const client = await createKey(admin, orgId, BUILT_IN_ROLE_PERMISSIONS.editor);
    expect(client).toMatchObject({ createdBy: admin.userId, memberId: admin.userId });
    expect((await readCredits(client.key, orgId)).status).toBe(200);

    await setRole(owner, orgId, admin.userId, { role: 'viewer' });
    const refused = await readCredits(client.key, orgId);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/no longer holds billing:read/);
    expect((await readMembers(client.key, orgId)).status).toBe(200);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: client.key })).status).toBe(200);
    // Demotion is not departure: the key stays live, and does again what its member may do.
    await setRole(owner, orgId, admin.userId, { role: 'editor' });
    expect((await readCredits(client.key, orgId)).status).toBe(200);
  });

  it('follows an edit of its member’s custom role that takes a permission away', async () => {
    const owner = await signUpUser('keyrole');
    const member = await signUpUser('keyrole-m');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'viewer' }]);
    const role = await api('POST', `/v1/orgs/${orgId}/roles`, {
      token: owner.accessToken,
      body: { name: 'Finance', permissions: ['org:read', 'billing:read', 'api-clients:create'] },
    });
    expect(role.status).toBe(201);
    await setRole(owner, orgId, member.userId, { role: role.body.roleId });
    const client = await createKey(member, orgId, ['org:read', 'billing:read']);
    expect((await readCredits(client.key, orgId)).status).toBe(200);

    const edited = await api('PATCH', `/v1/orgs/${orgId}/roles/${role.body.roleId}`, {
      token: owner.accessToken,
      body: { permissions: ['org:read', 'api-clients:create'] },
    });
    expect(edited.status).toBe(200);
    expect((await readCredits(client.key, orgId)).status).toBe(403);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: client.key })).status).toBe(200);
  });

  it('of the old owner loses the owner’s powers when ownership is transferred', async () => {
    const owner = await signUpUser('keytransfer');
    const heir = await signUpUser('keytransfer-h');
    const viewer = await signUpUser('keytransfer-v');
    const { orgId } = await createTeam(owner, [
      { user: heir, role: 'admin' },
      { user: viewer, role: 'viewer' },
    ]);
    // Handing out a role takes every permission it grants, so only a key with all of them may make an owner.
    const client = await createKey(owner, orgId, BUILT_IN_ROLE_PERMISSIONS.owner);
    const patch = (userId: string, role: string) =>
      api('PATCH', `/v1/orgs/${orgId}/members/${userId}`, { apiKey: client.key, body: { role } });
    // As the owner's key it may make an owner (and undo it).
    expect((await patch(viewer.userId, 'owner')).status).toBe(200);
    expect((await patch(viewer.userId, 'viewer')).status).toBe(200);

    const transfer = await api('POST', `/v1/orgs/${orgId}/transfer-ownership`, {
      token: owner.accessToken,
      body: { userId: heir.userId },
    });
    expect(transfer.status, JSON.stringify(transfer.body)).toBe(204);
    // Now an admin's key: no owner is made, nor is the new owner touched; an admin's own changes still pass.
    expect((await patch(viewer.userId, 'owner')).status).toBe(403);
    expect((await patch(heir.userId, 'admin')).status).toBe(403);
    expect((await patch(viewer.userId, 'editor')).status).toBe(200);
  });

  it('of a custom-role member cannot change nor remove a member who outranks them, as that member could not (403)', async () => {
    const owner = await signUpUser('keyrank');
    const admin = await signUpUser('keyrank-a');
    const manager = await signUpUser('keyrank-m');
    const { orgId } = await createTeam(owner, [
      { user: admin, role: 'admin' },
      { user: manager, role: 'viewer' },
    ]);
    const permissions = ['org:read', 'members:read', 'roles:read', 'members:update', 'members:remove', 'api-clients:create'];
    const role = await api('POST', `/v1/orgs/${orgId}/roles`, {
      token: owner.accessToken,
      body: { name: 'Member manager', permissions },
    });
    expect(role.status, JSON.stringify(role.body)).toBe(201);
    await setRole(owner, orgId, manager.userId, { role: role.body.roleId });
    const client = await createKey(manager, orgId, permissions.slice(0, 5));

    const demote = await api('PATCH', `/v1/orgs/${orgId}/members/${admin.userId}`, {
      apiKey: client.key,
      body: { role: 'viewer' },
    });
    expect(demote.status).toBe(403);
    expect((await api('DELETE', `/v1/orgs/${orgId}/members/${admin.userId}`, { apiKey: client.key })).status).toBe(403);
    const members = await api('GET', `/v1/orgs/${orgId}/members`, { token: owner.accessToken });
    expect(members.body.items.find((m: { userId: string }) => m.userId === admin.userId)).toMatchObject({ role: 'admin' });
  });

  it('pauses while its member is suspended and works again when they are reactivated', async () => {
    const owner = await signUpUser('keysuspend');
    const admin = await signUpUser('keysuspend-a');
    const { orgId } = await createTeam(owner, [{ user: admin, role: 'admin' }]);
    const client = await createKey(admin, orgId, ['org:read']);
    await setRole(owner, orgId, admin.userId, { isActive: false });
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: client.key })).status).toBe(401);
    await setRole(owner, orgId, admin.userId, { isActive: true });
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: client.key })).status).toBe(200);
  });

  it('bounds a key made by a key by the same member', async () => {
    const owner = await signUpUser('keychain');
    const admin = await signUpUser('keychain-a');
    const { orgId } = await createTeam(owner, [{ user: admin, role: 'admin' }]);
    const parent = await createKey(admin, orgId, ['org:read', 'billing:read', 'api-clients:create']);
    const child = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      apiKey: parent.key,
      body: { name: 'child', scopes: ['org:read', 'billing:read'] },
    });
    expect(child.status).toBe(201);
    expect(child.body).toMatchObject({ createdBy: parent.clientId, memberId: admin.userId });
    await setRole(owner, orgId, admin.userId, { role: 'viewer' });
    expect((await readCredits(child.body.key, orgId)).status).toBe(403);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: child.body.key })).status).toBe(200);
  });

  it('can be created only by a member, within their role even when they are a platform admin', async () => {
    const owner = await signUpUser('keyplatform');
    const staff = await signUpPlatformAdmin('keyplatform-p');
    const { orgId } = await createTeam(owner);
    const outsider = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      token: staff.accessToken,
      body: { name: 'Support', scopes: ['org:read'] },
    });
    expect(outsider.status).toBe(403);

    const { orgId: team } = await createTeam(owner, [{ user: staff, role: 'viewer' }]);
    const beyond = await api('POST', `/v1/orgs/${team}/api-clients`, {
      token: staff.accessToken,
      body: { name: 'Support', scopes: ['org:read', 'billing:read'] },
    });
    expect(beyond.status).toBe(403);
    expect((await createKey(staff, team, ['org:read'])).memberId).toBe(staff.userId);
  });
});

describe.concurrent('an API key whose member leaves', () => {
  it('stops working at once when the member is removed, and is then revoked by the system, audited', async () => {
    const owner = await signUpUser('keyremoved');
    const admin = await signUpUser('keyremoved-a');
    const { orgId } = await createTeam(owner, [{ user: admin, role: 'admin' }]);
    const client = await createKey(admin, orgId, BUILT_IN_ROLE_PERMISSIONS.editor);
    const kept = await createKey(owner, orgId, ['org:read']);
    expect((await readMembers(client.key, orgId)).status).toBe(200);

    expect((await api('DELETE', `/v1/orgs/${orgId}/members/${admin.userId}`, { token: owner.accessToken })).status).toBe(204);
    expect((await readMembers(client.key, orgId)).status).toBe(401);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: client.key })).status).toBe(401);

    expect(await revokedInList(owner, orgId, client.clientId)).toMatchObject({ isActive: false, revokedBy: 'system' });
    // Revoked, it fails even where no organization is read, and the owner's own key is untouched.
    expect((await api('GET', '/v1/providers', { apiKey: client.key })).status).toBe(401);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: kept.key })).status).toBe(200);
    const audit = await api('GET', `/v1/orgs/${orgId}/audit-events?action=api-client.revoked`, { token: owner.accessToken });
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        actorType: 'system',
        targetId: client.clientId,
        details: { reason: 'member-left', memberId: admin.userId },
      }),
    ]);
  });

  it('is revoked when the member leaves by themself, and stays revoked if they come back', async () => {
    const owner = await signUpUser('keyleaver');
    const member = await signUpUser('keyleaver-m');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'admin' }]);
    const client = await createKey(member, orgId, ['org:read']);
    expect((await api('DELETE', `/v1/me/orgs/${orgId}`, { token: member.accessToken })).status).toBe(204);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: client.key })).status).toBe(401);
    await revokedInList(owner, orgId, client.clientId);

    const back = await api('POST', `/v1/orgs/${orgId}/invitations`, {
      token: owner.accessToken,
      body: { email: member.email, role: 'admin' },
    });
    expect((await api('POST', `/v1/invitations/${back.body.invitationId}/accept`, { token: member.accessToken })).status).toBe(
      200,
    );
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: client.key })).status).toBe(401);
  });

  it('once the member is back, a late or repeated record of their departure revokes only the keys made before', async () => {
    const owner = await signUpUser('keyreturn');
    const member = await signUpUser('keyreturn-m');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'admin' }]);
    const old = await createKey(member, orgId, ['org:read']);
    // The membership as the stream's record of its removal carries it (Lambda may deliver it again, or late).
    const { data } = (await db.membership.get({ orgId, userId: member.userId }).go({ data: 'raw' })) as unknown as {
      data: { Item: Record<string, unknown> };
    };
    const departure = { eventName: 'REMOVE', dynamodb: { OldImage: marshall(data.Item) } };
    expect((await api('DELETE', `/v1/orgs/${orgId}/members/${member.userId}`, { token: owner.accessToken })).status).toBe(204);
    await revokedInList(owner, orgId, old.clientId);

    await addMember(owner, orgId, member, 'admin');
    const fresh = await createKey(member, orgId, ['org:read']);
    await revokeKeysOfDeparted(departure as StreamRecord);

    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: fresh.key })).status).toBe(200);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: old.key })).status).toBe(401);
    const list = await api('GET', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken });
    expect(list.body.items.find((c: { clientId: string }) => c.clientId === fresh.clientId)).toMatchObject({ isActive: true });
    expect(list.body.items.find((c: { clientId: string }) => c.clientId === fresh.clientId).revokedAt).toBeUndefined();
  });

  it('is revoked in every organization when the member deletes their account', async () => {
    const owner = await signUpUser('keydeleted');
    const member = await signUpUser('keydeleted-m');
    const { orgId: first } = await createTeam(owner, [{ user: member, role: 'admin' }]);
    const { orgId: second } = await createTeam(owner, [{ user: member, role: 'admin' }]);
    const keys = [await createKey(member, first, ['org:read']), await createKey(member, second, ['org:read'])];
    expect((await api('DELETE', '/v1/me', { token: member.accessToken })).status).toBe(204);
    expect((await api('GET', `/v1/orgs/${first}`, { apiKey: keys[0]!.key })).status).toBe(401);
    expect(await revokedInList(owner, first, keys[0]!.clientId)).toMatchObject({ revokedBy: 'system' });
    expect(await revokedInList(owner, second, keys[1]!.clientId)).toMatchObject({ revokedBy: 'system' });
  });
});

describe('the API clients list', () => {
  it('shows each key’s effective scopes: its scopes within its member’s current role, none once revoked', async () => {
    const owner = await signUpUser('keylist');
    const admin = await signUpUser('keylist-a');
    const { orgId } = await createTeam(owner, [{ user: admin, role: 'admin' }]);
    const adminKey = await createKey(admin, orgId, ['org:read', 'billing:read', 'members:read']);
    const ownerKey = await createKey(owner, orgId, ['org:read', 'billing:read']);
    const gone = await createKey(owner, orgId, ['org:read']);
    expect((await api('DELETE', `/v1/orgs/${orgId}/api-clients/${gone.clientId}`, { token: owner.accessToken })).status).toBe(
      204,
    );
    await setRole(owner, orgId, admin.userId, { role: 'viewer' });

    const res = await api('GET', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken });
    expect(res.status).toBe(200);
    const byId = new Map(res.body.items.map((c: { clientId: string }) => [c.clientId, c]));
    // Stored scopes stay as created; what the key may do follows its member's role (a viewer reads no billing).
    expect(byId.get(adminKey.clientId)).toMatchObject({
      scopes: ['billing:read', 'members:read', 'org:read'],
      effectiveScopes: ['members:read', 'org:read'],
    });
    expect(byId.get(ownerKey.clientId)).toMatchObject({ effectiveScopes: ['billing:read', 'org:read'] });
    expect(byId.get(gone.clientId)).toMatchObject({ scopes: ['org:read'], effectiveScopes: [] });
    // The same as what the key is allowed at its next call.
    expect((await readCredits(adminKey.key, orgId)).status).toBe(403);
    expect((await readMembers(adminKey.key, orgId)).status).toBe(200);
  });
});
