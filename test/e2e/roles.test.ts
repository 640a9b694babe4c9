import { describe, expect, it } from 'vitest';
import { addMember, api, createTeam, errorPaths, signUpUser, uniqueEmail, type SignedInUser } from '../helpers/api.ts';

const createRole = (by: SignedInUser, orgId: string, body: Record<string, unknown>) =>
  api('POST', `/v1/orgs/${orgId}/roles`, { token: by.accessToken, body });
const setRole = (by: SignedInUser, orgId: string, userId: string, role: string) =>
  api('PATCH', `/v1/orgs/${orgId}/members/${userId}`, { token: by.accessToken, body: { role } });

describe.concurrent('listing roles', () => {
  it('comes whole (built-in roles and at most 50 custom ones): a 51st is a 409, and the list refuses a limit or cursor', async () => {
    const owner = await signUpUser('roles-cap');
    const { orgId } = await createTeam(owner);
    for (let i = 0; i < 50; i++)
      expect((await createRole(owner, orgId, { name: `Role ${i}`, permissions: ['org:read'] })).status).toBe(201);
    const refused = await createRole(owner, orgId, { name: 'One more', permissions: ['org:read'] });
    expect([refused.status, refused.body.detail]).toEqual([409, 'An organization has at most 50 custom roles']);
    const list = await api('GET', `/v1/orgs/${orgId}/roles`, { token: owner.accessToken });
    expect(list.body.items).toHaveLength(54);
    expect(list.body).not.toHaveProperty('nextCursor');
    const paged = await api('GET', `/v1/orgs/${orgId}/roles?limit=10`, { token: owner.accessToken });
    expect([paged.status, errorPaths(paged.body)]).toEqual([400, ['query.limit']]);
  }, 30_000);

  it('lists the four built-in roles with their permissions, then custom roles too', async () => {
    const owner = await signUpUser('roles');
    const viewer = await signUpUser('roles-v');
    const { orgId } = await createTeam(owner, [{ user: viewer, role: 'viewer' }]);
    const res = await api('GET', `/v1/orgs/${orgId}/roles`, { token: viewer.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.items.map((r: { roleId: string }) => r.roleId)).toEqual(['owner', 'admin', 'editor', 'viewer']);
    for (const role of res.body.items) expect(role.isSystemRole).toBe(true);
    const byId = Object.fromEntries(
      res.body.items.map((r: { roleId: string; permissions: string[] }) => [r.roleId, r.permissions]),
    );
    expect(byId.owner).toEqual(expect.arrayContaining(['org:delete', 'members:transfer-ownership', 'audit:read']));
    expect(byId.admin).not.toContain('org:delete');
    expect(byId.admin).not.toContain('members:transfer-ownership');
    expect(byId.admin).toContain('roles:manage');
    expect([...byId.viewer].sort()).toEqual(['members:read', 'org:read', 'roles:read']);

    const created = await createRole(owner, orgId, {
      name: 'Auditor',
      description: 'Reads the audit log',
      permissions: ['audit:read', 'org:read'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const after = await api('GET', `/v1/orgs/${orgId}/roles`, { token: owner.accessToken });
    expect(after.body.items).toHaveLength(5);
    expect(after.body.items.at(-1)).toEqual({
      roleId: created.body.roleId,
      name: 'Auditor',
      description: 'Reads the audit log',
      permissions: ['audit:read', 'org:read'],
      isSystemRole: false,
    });
  });

  it('is refused to a stranger (404)', async () => {
    const owner = await signUpUser('roles-x');
    const stranger = await signUpUser('roles-xx');
    const { orgId } = await createTeam(owner);
    expect((await api('GET', `/v1/orgs/${orgId}/roles`, { token: stranger.accessToken })).status).toBe(404);
  });
});

describe.concurrent('custom roles', () => {
  it('a member with a custom read-only role reads members but cannot change the organization', async () => {
    const owner = await signUpUser('custom');
    const member = await signUpUser('custom-m');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'editor' }]);
    const created = await createRole(owner, orgId, {
      name: 'Member reader',
      permissions: ['members:read', 'org:read', 'members:read'],
    });
    expect(created.status).toBe(201);
    expect(created.body.roleId).toMatch(/^role_[0-9a-z]{26}$/);
    expect(created.body.permissions).toEqual(['members:read', 'org:read']);
    expect(created.body.isSystemRole).toBe(false);

    const assigned = await setRole(owner, orgId, member.userId, created.body.roleId);
    expect(assigned.status).toBe(200);
    expect(assigned.body.role).toBe(created.body.roleId);

    expect((await api('GET', `/v1/orgs/${orgId}/members`, { token: member.accessToken })).status).toBe(200);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: member.accessToken })).body.role).toBe(created.body.roleId);
    expect((await api('PATCH', `/v1/orgs/${orgId}`, { token: member.accessToken, body: { name: 'Nope' } })).status).toBe(403);
    // Editors read roles; this custom role does not.
    expect((await api('GET', `/v1/orgs/${orgId}/roles`, { token: member.accessToken })).status).toBe(403);
  });

  it('changing a custom role’s permissions changes what its holders may do', async () => {
    const owner = await signUpUser('updrole');
    const member = await signUpUser('updrole-m');
    const { orgId } = await createTeam(owner);
    const { body: role } = await createRole(owner, orgId, { name: 'Settings', permissions: ['org:read'] });
    await addMember(owner, orgId, member, role.roleId);
    expect((await api('PATCH', `/v1/orgs/${orgId}`, { token: member.accessToken, body: { name: 'Before' } })).status).toBe(403);
    const updated = await api('PATCH', `/v1/orgs/${orgId}/roles/${role.roleId}`, {
      token: owner.accessToken,
      body: { name: 'Settings editor', permissions: ['org:read', 'org:update'] },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ roleId: role.roleId, name: 'Settings editor', permissions: ['org:read', 'org:update'] });
    expect((await api('PATCH', `/v1/orgs/${orgId}`, { token: member.accessToken, body: { name: 'After' } })).status).toBe(200);
  });

  it('refuses a permission outside the catalogue with 400', async () => {
    const owner = await signUpUser('unknownperm');
    const { orgId } = await createTeam(owner);
    const res = await createRole(owner, orgId, { name: 'Weird', permissions: ['org:read', 'rockets:launch'] });
    expect(res.status).toBe(400);
    expect(errorPaths(res.body).some((p) => p.startsWith('body.permissions'))).toBe(true);
    expect((await createRole(owner, orgId, { name: 'Empty', permissions: [] })).status).toBe(400);
  });

  it('refuses a role with a permission its creator lacks (an admin granting org:delete) with 403', async () => {
    const owner = await signUpUser('beyond');
    const admin = await signUpUser('beyond-a');
    const { orgId } = await createTeam(owner, [{ user: admin, role: 'admin' }]);
    const res = await createRole(admin, orgId, { name: 'Destroyer', permissions: ['org:read', 'org:delete'] });
    expect(res.status).toBe(403);
    const roles = await api('GET', `/v1/orgs/${orgId}/roles`, { token: owner.accessToken });
    expect(roles.body.items.map((r: { name: string }) => r.name)).not.toContain('Destroyer');
    // Within the admin's own permissions it works.
    expect((await createRole(admin, orgId, { name: 'Helper', permissions: ['org:read', 'invitations:create'] })).status).toBe(
      201,
    );
  });

  it('refuses role management to an editor (403)', async () => {
    const owner = await signUpUser('editorroles');
    const editor = await signUpUser('editorroles-e');
    const { orgId } = await createTeam(owner, [{ user: editor, role: 'editor' }]);
    expect((await createRole(editor, orgId, { name: 'Mine', permissions: ['org:read'] })).status).toBe(403);
  });

  it('refuses a second role with the same name, or one named like a built-in (409)', async () => {
    const owner = await signUpUser('dupname');
    const { orgId } = await createTeam(owner);
    expect((await createRole(owner, orgId, { name: 'Reviewer', permissions: ['org:read'] })).status).toBe(201);
    expect((await createRole(owner, orgId, { name: 'reviewer', permissions: ['members:read'] })).status).toBe(409);
    expect((await createRole(owner, orgId, { name: 'Admin', permissions: ['org:read'] })).status).toBe(409);
    // Names that read alike on screen: invisible characters inside, full-width letters.
    for (const name of ['Own\u200ber', '\u200bAdmin', 'Owner\u2060', 'Ad\u200dmin', 'Ｏｗｎｅｒ', 'Revie\u200bwer'])
      expect((await createRole(owner, orgId, { name, permissions: ['org:read'] })).status, escape(name)).toBe(409);
  });

  it('refuses renaming a custom role to a built-in name, whatever its case or spaces, or to another role’s name (409)', async () => {
    const owner = await signUpUser('rename');
    const { orgId } = await createTeam(owner);
    const { body: role } = await createRole(owner, orgId, { name: 'Readers', permissions: ['org:read'] });
    expect((await createRole(owner, orgId, { name: 'Writers', permissions: ['org:read'] })).status).toBe(201);
    const rename = (name: string) =>
      api('PATCH', `/v1/orgs/${orgId}/roles/${role.roleId}`, { token: owner.accessToken, body: { name } });
    for (const name of ['Owner', 'ADMIN', ' viewer ', 'Edi tor', 'writers']) {
      const res = await rename(name);
      expect(res.status, name).toBe(409);
      expect(errorPaths(res.body)).toContain('body.name');
    }
    expect((await createRole(owner, orgId, { name: ' Owner', permissions: ['org:read'] })).status).toBe(409);
    // Its own name in another case is no clash.
    expect((await rename('READERS')).status).toBe(200);
  });

  it('refuses to delete a role someone holds (409), and deletes it once nobody does (204)', async () => {
    const owner = await signUpUser('delrole');
    const member = await signUpUser('delrole-m');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'viewer' }]);
    const { body: role } = await createRole(owner, orgId, { name: 'Temporary', permissions: ['org:read', 'members:read'] });
    expect((await setRole(owner, orgId, member.userId, role.roleId)).status).toBe(200);
    const held = await api('DELETE', `/v1/orgs/${orgId}/roles/${role.roleId}`, { token: owner.accessToken });
    expect(held.status).toBe(409);
    expect((await setRole(owner, orgId, member.userId, 'viewer')).status).toBe(200);
    const deleted = await api('DELETE', `/v1/orgs/${orgId}/roles/${role.roleId}`, { token: owner.accessToken });
    expect(deleted.status).toBe(204);
    const roles = await api('GET', `/v1/orgs/${orgId}/roles`, { token: owner.accessToken });
    expect(roles.body.items.map((r: { roleId: string }) => r.roleId)).not.toContain(role.roleId);
    expect((await api('DELETE', `/v1/orgs/${orgId}/roles/${role.roleId}`, { token: owner.accessToken })).status).toBe(404);
    // The deleted role can no longer be given.
    expect((await setRole(owner, orgId, member.userId, role.roleId)).status).toBe(400);
  });

  it('an invitation whose custom role was deleted since cannot be accepted (409), and makes nobody a member', async () => {
    const owner = await signUpUser('invrole');
    const invitee = await signUpUser('invrole-i');
    const { orgId } = await createTeam(owner);
    const { body: role } = await createRole(owner, orgId, { name: 'Short-lived', permissions: ['org:read'] });
    const invitation = await api('POST', `/v1/orgs/${orgId}/invitations`, {
      token: owner.accessToken,
      body: { email: invitee.email, role: role.roleId },
    });
    expect(invitation.status).toBe(201);
    expect((await api('DELETE', `/v1/orgs/${orgId}/roles/${role.roleId}`, { token: owner.accessToken })).status).toBe(204);
    const accepted = await api('POST', `/v1/invitations/${invitation.body.invitationId}/accept`, { token: invitee.accessToken });
    expect(accepted.status).toBe(409);
    const members = await api('GET', `/v1/orgs/${orgId}/members`, { token: owner.accessToken });
    expect(members.body.items.map((m: { userId: string }) => m.userId)).not.toContain(invitee.userId);
  });

  it('cannot be used in another organization (400)', async () => {
    const owner = await signUpUser('crossrole');
    const member = await signUpUser('crossrole-m');
    const a = await createTeam(owner);
    const b = await createTeam(owner, [{ user: member, role: 'viewer' }]);
    const { body: role } = await createRole(owner, a.orgId, { name: 'Only in A', permissions: ['org:read'] });
    expect((await setRole(owner, b.orgId, member.userId, role.roleId)).status).toBe(400);
    expect(
      (
        await api('POST', `/v1/orgs/${b.orgId}/invitations`, {
          token: owner.accessToken,
          body: { email: uniqueEmail('x'), role: role.roleId },
        })
      ).status,
    ).toBe(400);
  });
});

describe.concurrent('nobody hands out more than they hold', () => {
  it('a member who may change roles cannot make themself an admin (403)', async () => {
    const owner = await signUpUser('escalate');
    const manager = await signUpUser('escalate-m');
    const { orgId } = await createTeam(owner);
    const { body: role } = await createRole(owner, orgId, {
      name: 'Role changer',
      permissions: ['org:read', 'members:read', 'members:update'],
    });
    await addMember(owner, orgId, manager, role.roleId);
    const res = await setRole(manager, orgId, manager.userId, 'admin');
    expect(res.status).toBe(403);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: manager.accessToken })).body.role).toBe(role.roleId);
  });

  it('an admin cannot give anyone (themself included) an owner-made role that can delete the organization (403)', async () => {
    const owner = await signUpUser('escalate2');
    const admin = await signUpUser('escalate2-a');
    const { orgId } = await createTeam(owner, [{ user: admin, role: 'admin' }]);
    const { body: role } = await createRole(owner, orgId, { name: 'Deleter', permissions: ['org:read', 'org:delete'] });
    expect((await setRole(admin, orgId, admin.userId, role.roleId)).status).toBe(403);
    const invitation = await api('POST', `/v1/orgs/${orgId}/invitations`, {
      token: admin.accessToken,
      body: { email: uniqueEmail('accomplice'), role: role.roleId },
    });
    expect(invitation.status).toBe(403);
    expect((await api('DELETE', `/v1/orgs/${orgId}`, { token: admin.accessToken })).status).toBe(403);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(200);
    // The owner can give it.
    expect(
      (
        await api('POST', `/v1/orgs/${orgId}/invitations`, {
          token: owner.accessToken,
          body: { email: uniqueEmail('trusted'), role: role.roleId },
        })
      ).status,
    ).toBe(201);
  });
});
