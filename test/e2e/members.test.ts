import { describe, expect, it } from 'vitest';
import { db } from '@platform/domain/identity/entities';
import { BUILT_IN_ROLE_PERMISSIONS } from '@platform/domain/identity/permissions';
import {
  addMember,
  api,
  createTeam,
  errorPaths,
  latestMail,
  signUpPlatformAdmin,
  signUpUser,
  uniqueEmail,
  type SignedInUser,
} from '../helpers/api.ts';

const invite = (by: SignedInUser, orgId: string, email: string, role: string) =>
  api('POST', `/v1/orgs/${orgId}/invitations`, { token: by.accessToken, body: { email, role } });
const accept = (user: SignedInUser, invitationId: string) =>
  api('POST', `/v1/invitations/${invitationId}/accept`, { token: user.accessToken });
const decline = (user: SignedInUser, invitationId: string) =>
  api('POST', `/v1/invitations/${invitationId}/decline`, { token: user.accessToken });
const membersOf = async (by: SignedInUser, orgId: string) => {
  const res = await api('GET', `/v1/orgs/${orgId}/members`, { token: by.accessToken });
  expect(res.status).toBe(200);
  return res.body.items as Array<{
    userId: string;
    role: string;
    email: string;
    isActive?: boolean;
    assignedBy: string;
    expiresAt?: string;
  }>;
};
const roleOf = async (by: SignedInUser, orgId: string, userId: string) =>
  (await membersOf(by, orgId)).find((m) => m.userId === userId)?.role;

describe.concurrent('inviting people', () => {
  it('emails the invitee a link, shows it among their invitations, and accepting makes them an editor', async () => {
    const owner = await signUpUser('inviter');
    const invitee = await signUpUser('invitee', 'Ivy Invitee');
    const { orgId } = await createTeam(owner);
    const created = await invite(owner, orgId, invitee.email, 'editor');
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      orgId,
      email: invitee.email,
      role: 'editor',
      status: 'pending',
      invitedBy: owner.userId,
    });
    expect(created.body.invitationId).toMatch(/^inv_[0-9a-z]{26}$/);
    expect(new Date(created.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    const { invitationId } = created.body;

    const mail = await latestMail(invitee.email, 'invitation');
    expect(mail).toBeDefined();
    expect(mail!.link).toContain(invitationId);
    expect(mail!.subject).toContain(created.body.orgName);

    const mine = await api('GET', '/v1/me/invitations', { token: invitee.accessToken });
    expect(mine.status).toBe(200);
    expect(mine.body.items).toEqual([
      expect.objectContaining({ invitationId, orgId, role: 'editor', status: 'pending', orgName: created.body.orgName }),
    ]);

    // Not a member yet.
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: invitee.accessToken })).status).toBe(404);

    const accepted = await accept(invitee, invitationId);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ orgId, role: 'editor' });

    const members = await membersOf(owner, orgId);
    expect(members).toContainEqual(
      expect.objectContaining({ userId: invitee.userId, email: invitee.email, role: 'editor', assignedBy: owner.userId }),
    );
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: invitee.accessToken })).body.role).toBe('editor');
    expect((await api('GET', '/v1/me/invitations', { token: invitee.accessToken })).body.items).toEqual([]);
    const listed = await api('GET', `/v1/orgs/${orgId}/invitations?status=accepted`, { token: owner.accessToken });
    expect(listed.body.items.map((i: { invitationId: string }) => i.invitationId)).toContain(invitationId);
    // An invitation is answered once.
    expect((await accept(invitee, invitationId)).status).toBe(409);
  });

  it('matches the invitee whatever the case of the invited email', async () => {
    const owner = await signUpUser('case');
    const invitee = await signUpUser('case-i');
    const { orgId } = await createTeam(owner);
    const created = await invite(owner, orgId, invitee.email.toUpperCase(), 'viewer');
    expect(created.status).toBe(201);
    expect(created.body.email).toBe(invitee.email);
    expect((await accept(invitee, created.body.invitationId)).status).toBe(200);
  });

  it('refuses to invite someone who is already a member (409)', async () => {
    const owner = await signUpUser('dupmember');
    const member = await signUpUser('dupmember-m');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'viewer' }]);
    const res = await invite(owner, orgId, member.email, 'editor');
    expect(res.status).toBe(409);
    expect(errorPaths(res.body)).toContain('body.email');
    expect((await invite(owner, orgId, owner.email, 'editor')).status).toBe(409);
  });

  it('refuses a second pending invitation for the same email (409)', async () => {
    const owner = await signUpUser('duppending');
    const { orgId } = await createTeam(owner);
    const email = uniqueEmail('pending');
    expect((await invite(owner, orgId, email, 'viewer')).status).toBe(201);
    const again = await invite(owner, orgId, email, 'editor');
    expect(again.status).toBe(409);
    expect(errorPaths(again.body)).toContain('body.email');
  });

  it('keeps one pending invitation when several for one address (written differently) are sent at once', async () => {
    const owner = await signUpUser('dupracing');
    const invitee = await signUpUser('dupracing-i');
    const { orgId } = await createTeam(owner);
    const spellings = [invitee.email, invitee.email.toUpperCase(), ` ${invitee.email} `, invitee.email];
    const sent = await Promise.all(spellings.map((email) => invite(owner, orgId, email, 'viewer')));
    expect(sent.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    const pending = await api('GET', `/v1/orgs/${orgId}/invitations?status=pending`, { token: owner.accessToken });
    expect(pending.body.items.map((i: { email: string }) => i.email)).toEqual([invitee.email]);
    expect((await api('GET', '/v1/me/invitations', { token: invitee.accessToken })).body.items).toHaveLength(1);
    // Once that one is answered, the address can be invited again.
    const [created] = sent.filter((r) => r.status === 201);
    const declined = await api('POST', `/v1/invitations/${created!.body.invitationId}/decline`, { token: invitee.accessToken });
    expect(declined.status).toBe(204);
    expect((await invite(owner, orgId, invitee.email, 'editor')).status).toBe(201);
  });

  it('refuses an unknown role (400), an owner invitation from an admin (403) and any invitation from an editor (403)', async () => {
    const owner = await signUpUser('badrole');
    const admin = await signUpUser('badrole-a');
    const editor = await signUpUser('badrole-e');
    const { orgId } = await createTeam(owner, [
      { user: admin, role: 'admin' },
      { user: editor, role: 'editor' },
    ]);
    const unknown = await invite(owner, orgId, uniqueEmail('x'), 'superuser');
    expect(unknown.status).toBe(400);
    expect(errorPaths(unknown.body)).toContain('body.role');
    const unknownCustom = await invite(owner, orgId, uniqueEmail('x'), 'role_0123456789abcdefghjkmnpqrs');
    expect(unknownCustom.status).toBe(400);
    expect((await invite(admin, orgId, uniqueEmail('x'), 'owner')).status).toBe(403);
    expect((await invite(admin, orgId, uniqueEmail('x'), 'editor')).status).toBe(201);
    expect((await invite(editor, orgId, uniqueEmail('x'), 'viewer')).status).toBe(403);
  });

  it('a platform admin, and an owner’s key holding the owners’ scopes, may invite an owner (201), as they may make one', async () => {
    const owner = await signUpUser('ownerinvite');
    const staff = await signUpPlatformAdmin('ownerinvite-s');
    const [byStaff, byKey] = [await signUpUser('ownerinvite-i1'), await signUpUser('ownerinvite-i2')];
    const { orgId } = await createTeam(owner);
    // A platform admin who is not a member.
    const invited = await invite(staff, orgId, byStaff.email, 'owner');
    expect([invited.status, invited.body.detail]).toEqual([201, undefined]);
    expect((await accept(byStaff, invited.body.invitationId)).body).toMatchObject({ role: 'owner' });
    // The owner's key that may make an owner of a member (members:transfer-ownership) may invite one too…
    const createKey = (scopes: readonly string[]) =>
      api('POST', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken, body: { name: 'owner automation', scopes } });
    const ownerKey = await createKey(BUILT_IN_ROLE_PERMISSIONS.owner);
    const byOwnerKey = await api('POST', `/v1/orgs/${orgId}/invitations`, {
      apiKey: ownerKey.body.key,
      body: { email: byKey.email, role: 'owner' },
    });
    expect([byOwnerKey.status, byOwnerKey.body.detail]).toEqual([201, undefined]);
    // …one without it may not, as it may not make an owner.
    const lesserKey = await createKey(BUILT_IN_ROLE_PERMISSIONS.owner.filter((p) => p !== 'members:transfer-ownership'));
    const refused = await api('POST', `/v1/orgs/${orgId}/invitations`, {
      apiKey: lesserKey.body.key,
      body: { email: uniqueEmail('ownerinvite-x'), role: 'owner' },
    });
    expect(refused.status).toBe(403);
  });

  it('does not let someone with another email accept or decline the invitation (404)', async () => {
    const owner = await signUpUser('wrongperson');
    const invitee = await signUpUser('wrongperson-i');
    const intruder = await signUpUser('wrongperson-x');
    const { orgId } = await createTeam(owner);
    const { body } = await invite(owner, orgId, invitee.email, 'admin');
    expect((await accept(intruder, body.invitationId)).status).toBe(404);
    expect((await decline(intruder, body.invitationId)).status).toBe(404);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: intruder.accessToken })).status).toBe(404);
    expect((await api('GET', '/v1/me/invitations', { token: intruder.accessToken })).body.items).toEqual([]);
    // The real invitee can still accept.
    expect((await accept(invitee, body.invitationId)).status).toBe(200);
  });

  it('declining removes it from my invitations, makes no membership, and lets the org invite me again', async () => {
    const owner = await signUpUser('decliner');
    const invitee = await signUpUser('decliner-i');
    const { orgId } = await createTeam(owner);
    const { body } = await invite(owner, orgId, invitee.email, 'editor');
    const res = await decline(invitee, body.invitationId);
    expect(res.status).toBe(204);
    expect((await api('GET', '/v1/me/invitations', { token: invitee.accessToken })).body.items).toEqual([]);
    expect((await membersOf(owner, orgId)).map((m) => m.userId)).not.toContain(invitee.userId);
    const listed = await api('GET', `/v1/orgs/${orgId}/invitations`, { token: owner.accessToken });
    expect(listed.body.items.find((i: { invitationId: string }) => i.invitationId === body.invitationId).status).toBe('declined');
    expect((await accept(invitee, body.invitationId)).status).toBe(409);
    expect((await invite(owner, orgId, invitee.email, 'viewer')).status).toBe(201);
  });

  it('an admin revokes a pending invitation; accepting it then is refused (409)', async () => {
    const owner = await signUpUser('revoker');
    const admin = await signUpUser('revoker-a');
    const invitee = await signUpUser('revoker-i');
    const { orgId } = await createTeam(owner, [{ user: admin, role: 'admin' }]);
    const { body } = await invite(owner, orgId, invitee.email, 'editor');
    const res = await api('DELETE', `/v1/orgs/${orgId}/invitations/${body.invitationId}`, { token: admin.accessToken });
    expect(res.status).toBe(204);
    expect((await api('GET', '/v1/me/invitations', { token: invitee.accessToken })).body.items).toEqual([]);
    expect((await accept(invitee, body.invitationId)).status).toBe(409);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: invitee.accessToken })).status).toBe(404);
    expect((await api('DELETE', `/v1/orgs/${orgId}/invitations/${body.invitationId}`, { token: admin.accessToken })).status).toBe(
      409,
    );
  });

  it('does not let another organization revoke the invitation (404)', async () => {
    const owner = await signUpUser('revoke-other');
    const otherOwner = await signUpUser('revoke-other-x');
    const invitee = await signUpUser('revoke-other-i');
    const { orgId } = await createTeam(owner);
    const other = await createTeam(otherOwner);
    const { body } = await invite(owner, orgId, invitee.email, 'editor');
    expect(
      (await api('DELETE', `/v1/orgs/${other.orgId}/invitations/${body.invitationId}`, { token: otherOwner.accessToken })).status,
    ).toBe(404);
    expect((await accept(invitee, body.invitationId)).status).toBe(200);
  });

  it('an invitation into an organization deleted since is no longer listed nor accepted (404)', async () => {
    const owner = await signUpUser('deletedorg');
    const invitee = await signUpUser('deletedorg-i');
    const { orgId } = await createTeam(owner);
    const { body } = await invite(owner, orgId, invitee.email, 'editor');
    expect((await api('DELETE', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(204);
    expect((await api('GET', '/v1/me/invitations', { token: invitee.accessToken })).body.items).toEqual([]);
    expect((await accept(invitee, body.invitationId)).status).toBe(404);
    expect(
      (await api('GET', '/v1/orgs', { token: invitee.accessToken })).body.items.map((o: { orgId: string }) => o.orgId),
    ).not.toContain(orgId);
  });

  it('refuses an expired invitation with 410, lists it as expired, and lets the org invite again', async () => {
    const owner = await signUpUser('expired');
    const invitee = await signUpUser('expired-i');
    const { orgId } = await createTeam(owner);
    const { body } = await invite(owner, orgId, invitee.email, 'editor');
    await db.invitation
      .patch({ invitationId: body.invitationId })
      .set({ expiresAt: new Date(Date.now() - 60_000).toISOString() })
      .go();
    expect((await api('GET', '/v1/me/invitations', { token: invitee.accessToken })).body.items).toEqual([]);
    const res = await accept(invitee, body.invitationId);
    expect(res.status).toBe(410);
    expect((await decline(invitee, body.invitationId)).status).toBe(410);
    expect((await membersOf(owner, orgId)).map((m) => m.userId)).not.toContain(invitee.userId);
    const listed = await api('GET', `/v1/orgs/${orgId}/invitations?status=expired`, { token: owner.accessToken });
    expect(listed.body.items.map((i: { invitationId: string }) => i.invitationId)).toContain(body.invitationId);
    expect((await invite(owner, orgId, invitee.email, 'editor')).status).toBe(201);
  });

  it('lists the invitee’s waiting invitations a page at a time, newest first, leaving out withdrawn ones', async () => {
    const owner = await signUpUser('inbox-pages');
    const invitee = await signUpUser('inbox-pages-i');
    const sent: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { orgId } = await createTeam(owner);
      const created = await invite(owner, orgId, invitee.email, 'viewer');
      expect(created.status).toBe(201);
      sent.push(created.body.invitationId);
    }
    const [, withdrawn] = sent;
    const withdrawnOrg = (await db.invitation.get({ invitationId: withdrawn! }).go()).data!.orgId;
    expect((await api('DELETE', `/v1/orgs/${withdrawnOrg}/invitations/${withdrawn}`, { token: owner.accessToken })).status).toBe(
      204,
    );

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const page = await api('GET', `/v1/me/invitations${query}`, { token: invitee.accessToken });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((i: { invitationId: string }) => i.invitationId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(sent.filter((id) => id !== withdrawn).reverse());
    expect(errorPaths((await api('GET', '/v1/me/invitations?limit=0', { token: invitee.accessToken })).body)).toEqual([
      'query.limit',
    ]);
  });
});

describe.concurrent('managing members', () => {
  it('an owner changes a member’s role', async () => {
    const owner = await signUpUser('rolechange');
    const member = await signUpUser('rolechange-m');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'editor' }]);
    const res = await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, {
      token: owner.accessToken,
      body: { role: 'viewer' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ orgId, userId: member.userId, role: 'viewer', assignedBy: owner.userId });
    expect(await roleOf(owner, orgId, member.userId)).toBe('viewer');
    // A viewer cannot invite any more.
    expect((await invite(member, orgId, uniqueEmail('x'), 'viewer')).status).toBe(403);
    // The same change sent again (a client's retry) changes, stamps and audits nothing more.
    const again = await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, {
      token: owner.accessToken,
      body: { role: 'viewer', isActive: true },
    });
    expect(again.status).toBe(200);
    expect(again.body.assignedAt).toBe(res.body.assignedAt);
    const audit = await api('GET', `/v1/orgs/${orgId}/audit-events`, { token: owner.accessToken });
    const aboutMember = audit.body.items.filter((e: { action: string; targetId?: string }) => e.targetId === member.userId);
    expect(aboutMember.map((e: { action: string }) => e.action)).toEqual(['member.role-changed']);
  });

  it('refuses an unknown role (400) and a member who does not exist (404)', async () => {
    const owner = await signUpUser('badpatch');
    const member = await signUpUser('badpatch-m');
    const stranger = await signUpUser('badpatch-x');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'editor' }]);
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, { token: owner.accessToken, body: { role: 'god' } }))
        .status,
    ).toBe(400);
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${stranger.userId}`, { token: owner.accessToken, body: { role: 'viewer' } }))
        .status,
    ).toBe(404);
  });

  it('an admin cannot change or remove an owner, nor make someone owner (403)', async () => {
    const owner = await signUpUser('adminvsowner');
    const admin = await signUpUser('adminvsowner-a');
    const editor = await signUpUser('adminvsowner-e');
    const { orgId } = await createTeam(owner, [
      { user: admin, role: 'admin' },
      { user: editor, role: 'editor' },
    ]);
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${owner.userId}`, { token: admin.accessToken, body: { role: 'viewer' } }))
        .status,
    ).toBe(403);
    expect((await api('DELETE', `/v1/orgs/${orgId}/members/${owner.userId}`, { token: admin.accessToken })).status).toBe(403);
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${editor.userId}`, { token: admin.accessToken, body: { role: 'owner' } }))
        .status,
    ).toBe(403);
    expect(await roleOf(owner, orgId, owner.userId)).toBe('owner');
    expect(await roleOf(owner, orgId, editor.userId)).toBe('editor');
    // But an admin manages those below.
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${editor.userId}`, { token: admin.accessToken, body: { role: 'viewer' } }))
        .status,
    ).toBe(200);
  });

  it('an editor cannot change or remove members (403)', async () => {
    const owner = await signUpUser('editorguard');
    const editor = await signUpUser('editorguard-e');
    const viewer = await signUpUser('editorguard-v');
    const { orgId } = await createTeam(owner, [
      { user: editor, role: 'editor' },
      { user: viewer, role: 'viewer' },
    ]);
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${viewer.userId}`, { token: editor.accessToken, body: { role: 'admin' } }))
        .status,
    ).toBe(403);
    expect((await api('DELETE', `/v1/orgs/${orgId}/members/${viewer.userId}`, { token: editor.accessToken })).status).toBe(403);
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${editor.userId}`, { token: editor.accessToken, body: { role: 'admin' } }))
        .status,
    ).toBe(403);
  });

  it('the last owner can neither step down nor be removed nor leave (409)', async () => {
    const owner = await signUpUser('lastowner');
    const { orgId } = await createTeam(owner);
    const demote = await api('PATCH', `/v1/orgs/${orgId}/members/${owner.userId}`, {
      token: owner.accessToken,
      body: { role: 'admin' },
    });
    expect(demote.status).toBe(409);
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${owner.userId}`, { token: owner.accessToken, body: { isActive: false } }))
        .status,
    ).toBe(409);
    expect((await api('DELETE', `/v1/orgs/${orgId}/members/${owner.userId}`, { token: owner.accessToken })).status).toBe(409);
    expect((await api('DELETE', `/v1/me/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(409);
    expect(await roleOf(owner, orgId, owner.userId)).toBe('owner');
  });

  it('with a second owner, the first may step down', async () => {
    const first = await signUpUser('twoowners');
    const second = await signUpUser('twoowners-2');
    const { orgId } = await createTeam(first, [{ user: second, role: 'editor' }]);
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${second.userId}`, { token: first.accessToken, body: { role: 'owner' } }))
        .status,
    ).toBe(200);
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${first.userId}`, { token: first.accessToken, body: { role: 'admin' } }))
        .status,
    ).toBe(200);
    // Now the second is the last owner.
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${second.userId}`, { token: second.accessToken, body: { role: 'admin' } }))
        .status,
    ).toBe(409);
  });

  it('a deactivated member loses access until reactivated', async () => {
    const owner = await signUpUser('deactivate');
    const member = await signUpUser('deactivate-m');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'editor' }]);
    const off = await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, {
      token: owner.accessToken,
      body: { isActive: false },
    });
    expect(off.status).toBe(200);
    expect(off.body.isActive).toBe(false);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: member.accessToken })).status).toBe(404);
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, { token: owner.accessToken, body: { isActive: true } }))
        .status,
    ).toBe(200);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: member.accessToken })).status).toBe(200);
  });

  it('a membership past its expiry gives no access', async () => {
    const owner = await signUpUser('expiry');
    const member = await signUpUser('expiry-m');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'editor' }]);
    const past = new Date(Date.now() - 60_000).toISOString();
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, { token: owner.accessToken, body: { expiresAt: past } }))
        .status,
    ).toBe(200);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: member.accessToken })).status).toBe(404);
    const cleared = await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, {
      token: owner.accessToken,
      body: { expiresAt: null },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body.expiresAt).toBeUndefined();
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: member.accessToken })).status).toBe(200);
  });
});

describe.concurrent('temporary members and deleted accounts', () => {
  it('a temporary admin can neither lift nor extend their own expiry (403); the owner can', async () => {
    const owner = await signUpUser('temp-o');
    const temp = await signUpUser('temp-a');
    const { orgId } = await createTeam(owner, [{ user: temp, role: 'admin' }]);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const later = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const patch = (by: SignedInUser, body: Record<string, unknown>) =>
      api('PATCH', `/v1/orgs/${orgId}/members/${temp.userId}`, { token: by.accessToken, body });
    expect((await patch(owner, { expiresAt: until })).status).toBe(200);

    const lift = await patch(temp, { expiresAt: null });
    expect(lift.status).toBe(403);
    expect(lift.body.detail).toMatch(/expiry/);
    expect((await patch(temp, { expiresAt: later })).status).toBe(403);
    expect((await membersOf(owner, orgId)).find((m) => m.userId === temp.userId)).toMatchObject({ expiresAt: until });
    // Bringing it forward only narrows their access; lifting it is the owner's to do.
    expect((await patch(temp, { expiresAt: new Date(Date.now() + 1_800_000).toISOString() })).status).toBe(200);
    expect((await patch(owner, { expiresAt: null })).status).toBe(200);
  });

  it('a deleted account’s membership cannot be reactivated (422), so it never counts as an owner', async () => {
    const owner = await signUpUser('gone-o');
    const coOwner = await signUpUser('gone-c');
    const { orgId } = await createTeam(owner, [{ user: coOwner, role: 'owner' }]);
    expect((await api('DELETE', '/v1/me', { token: coOwner.accessToken })).status).toBe(204);

    const reactivate = await api('PATCH', `/v1/orgs/${orgId}/members/${coOwner.userId}`, {
      token: owner.accessToken,
      body: { isActive: true },
    });
    expect(reactivate.status).toBe(422);
    expect(reactivate.body.detail).toMatch(/deleted their account/);
    expect((await membersOf(owner, orgId)).find((m) => m.userId === coOwner.userId)).toMatchObject({ isActive: false });
    // The owner remains the only owner, so they still cannot step down.
    const stepDown = await api('PATCH', `/v1/orgs/${orgId}/members/${owner.userId}`, {
      token: owner.accessToken,
      body: { role: 'admin' },
    });
    expect(stepDown.status).toBe(409);
  });
});

describe.concurrent('an organization always keeps an owner', () => {
  it('an owner’s membership cannot be given an expiry (422), nor can someone with an expiry be made owner', async () => {
    const owner = await signUpUser('ownerexpiry');
    const member = await signUpUser('ownerexpiry-m');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'editor' }]);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const past = new Date(Date.now() - 60_000).toISOString();
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${owner.userId}`, { token: owner.accessToken, body: { expiresAt: past } }))
        .status,
    ).toBe(422);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(200);
    expect(
      (
        await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, {
          token: owner.accessToken,
          body: { expiresAt: future },
        })
      ).status,
    ).toBe(200);
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, { token: owner.accessToken, body: { role: 'owner' } }))
        .status,
    ).toBe(422);
    const both = await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, {
      token: owner.accessToken,
      body: { role: 'owner', expiresAt: null },
    });
    expect(both.status).toBe(200);
    expect(both.body).toMatchObject({ role: 'owner' });
    expect(both.body.expiresAt).toBeUndefined();
  });

  it('ownership cannot go to a member whose membership has expired (422); a transfer clears a future expiry', async () => {
    const owner = await signUpUser('transferexp');
    const expired = await signUpUser('transferexp-x');
    const temporary = await signUpUser('transferexp-t');
    const { orgId } = await createTeam(owner, [
      { user: expired, role: 'admin' },
      { user: temporary, role: 'admin' },
    ]);
    const past = new Date(Date.now() - 60_000).toISOString();
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${expired.userId}`, { token: owner.accessToken, body: { expiresAt: past } }))
        .status,
    ).toBe(200);
    expect(
      (await api('POST', `/v1/orgs/${orgId}/transfer-ownership`, { token: owner.accessToken, body: { userId: expired.userId } }))
        .status,
    ).toBe(422);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: owner.accessToken })).body).toMatchObject({
      role: 'owner',
      ownerId: owner.userId,
    });

    expect(
      (
        await api('PATCH', `/v1/orgs/${orgId}/members/${temporary.userId}`, {
          token: owner.accessToken,
          body: { expiresAt: future },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await api('POST', `/v1/orgs/${orgId}/transfer-ownership`, {
          token: owner.accessToken,
          body: { userId: temporary.userId },
        })
      ).status,
    ).toBe(204);
    const row = (await membersOf(temporary, orgId)).find((m) => m.userId === temporary.userId) as {
      role: string;
      expiresAt?: string;
    };
    expect(row.role).toBe('owner');
    expect(row.expiresAt).toBeUndefined();
  });
});

describe.concurrent('the recorded owner (ownerId)', () => {
  /** A team of `owner` and a co-owner; answers the recorded owner and the live owners after `change`. */
  async function recordAfter(
    name: string,
    change: (owner: SignedInUser, coOwner: SignedInUser, orgId: string) => Promise<number>,
  ) {
    const owner = await signUpUser(name);
    const coOwner = await signUpUser(`${name}-c`);
    const { orgId } = await createTeam(owner, [{ user: coOwner, role: 'owner' }]);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: coOwner.accessToken })).body.ownerId).toBe(owner.userId);
    const status = await change(owner, coOwner, orgId);
    // Read by whichever of the two is still a member.
    const reader = (await api('GET', `/v1/orgs/${orgId}`, { token: coOwner.accessToken })).status === 200 ? coOwner : owner;
    const org = await api('GET', `/v1/orgs/${orgId}`, { token: reader.accessToken });
    const owners = (await membersOf(reader, orgId)).filter((m) => m.role === 'owner' && m.isActive !== false);
    return { status, ownerId: org.body.ownerId, owners: owners.map((m) => m.userId), coOwner };
  }

  it('passes to another live owner when the recorded owner leaves, steps down, is suspended or is removed', async () => {
    const outcomes = await Promise.all([
      recordAfter(
        'rec-leaves',
        async (owner, _, orgId) => (await api('DELETE', `/v1/me/orgs/${orgId}`, { token: owner.accessToken })).status,
      ),
      recordAfter(
        'rec-steps-down',
        async (owner, _, orgId) =>
          (await api('PATCH', `/v1/orgs/${orgId}/members/${owner.userId}`, { token: owner.accessToken, body: { role: 'admin' } }))
            .status,
      ),
      recordAfter(
        'rec-suspended',
        async (owner, coOwner, orgId) =>
          (
            await api('PATCH', `/v1/orgs/${orgId}/members/${owner.userId}`, {
              token: coOwner.accessToken,
              body: { isActive: false },
            })
          ).status,
      ),
      recordAfter(
        'rec-removed',
        async (owner, coOwner, orgId) =>
          (await api('DELETE', `/v1/orgs/${orgId}/members/${owner.userId}`, { token: coOwner.accessToken })).status,
      ),
    ]);
    for (const { status, ownerId, owners, coOwner } of outcomes) {
      expect(status).toBeLessThan(300);
      expect({ ownerId, owners }).toEqual({ ownerId: coOwner.userId, owners: [coOwner.userId] });
    }
  });

  it('stays with the recorded owner when another owner leaves', async () => {
    const { status, ownerId, owners } = await recordAfter(
      'rec-other-leaves',
      async (_, coOwner, orgId) => (await api('DELETE', `/v1/me/orgs/${orgId}`, { token: coOwner.accessToken })).status,
    );
    expect(status).toBe(204);
    expect(owners).toEqual([ownerId]);
  });
});

describe.concurrent('transferring ownership', () => {
  it('makes the member the owner, the old owner an admin, and changes the recorded owner', async () => {
    const owner = await signUpUser('transfer');
    const heir = await signUpUser('transfer-h');
    const { orgId } = await createTeam(owner, [{ user: heir, role: 'editor' }]);
    const res = await api('POST', `/v1/orgs/${orgId}/transfer-ownership`, {
      token: owner.accessToken,
      body: { userId: heir.userId },
    });
    expect(res.status).toBe(204);
    expect(await roleOf(heir, orgId, heir.userId)).toBe('owner');
    expect(await roleOf(heir, orgId, owner.userId)).toBe('admin');
    const org = await api('GET', `/v1/orgs/${orgId}`, { token: heir.accessToken });
    expect(org.body).toMatchObject({ ownerId: heir.userId, role: 'owner' });
    // The old owner has no owner powers any more.
    expect(
      (await api('POST', `/v1/orgs/${orgId}/transfer-ownership`, { token: owner.accessToken, body: { userId: owner.userId } }))
        .status,
    ).toBe(403);
    expect((await api('DELETE', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(403);
    // The new owner is the only owner: they cannot step down.
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${heir.userId}`, { token: heir.accessToken, body: { role: 'admin' } }))
        .status,
    ).toBe(409);
  });

  it('takes a user id written in upper case as the same user: the owner recorded, the audit, a transfer to oneself (422)', async () => {
    const owner = await signUpUser('transfer-case');
    const heir = await signUpUser('transfer-case-h');
    const { orgId } = await createTeam(owner, [{ user: heir, role: 'admin' }]);
    const self = await api('POST', `/v1/orgs/${orgId}/transfer-ownership`, {
      token: owner.accessToken,
      body: { userId: owner.userId.toUpperCase() },
    });
    expect(self.status, JSON.stringify(self.body)).toBe(422);
    const res = await api('POST', `/v1/orgs/${orgId}/transfer-ownership`, {
      token: owner.accessToken,
      body: { userId: heir.userId.toUpperCase() },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: heir.accessToken })).body.ownerId).toBe(heir.userId);
    const audit = await api('GET', `/v1/orgs/${orgId}/audit-events?action=org.ownership-transferred`, {
      token: heir.accessToken,
    });
    expect(audit.body.items.map((e: { targetId: string }) => e.targetId)).toEqual([heir.userId]);
    // The old owner leaving by their id in upper case leaves (member.left), not removed by someone.
    expect(
      (await api('DELETE', `/v1/orgs/${orgId}/members/${owner.userId.toUpperCase()}`, { token: owner.accessToken })).status,
    ).toBe(204);
    const left = await api('GET', `/v1/orgs/${orgId}/audit-events`, { token: heir.accessToken });
    expect(left.body.items.find((e: { action: string }) => e.action.startsWith('member.'))).toMatchObject({
      action: 'member.left',
      targetId: owner.userId,
    });
  });

  it('a custom role holding members:transfer-ownership is no owner: it neither transfers nor changes an owner (403)', async () => {
    const owner = await signUpUser('co-owner');
    const second = await signUpUser('co-owner-2');
    const deputy = await signUpUser('co-owner-d');
    const { orgId } = await createTeam(owner, [{ user: second, role: 'owner' }]);
    const { body: role } = await api('POST', `/v1/orgs/${orgId}/roles`, {
      token: owner.accessToken,
      body: {
        name: 'Deputy',
        permissions: ['org:read', 'members:read', 'roles:read', 'members:update', 'members:transfer-ownership'],
      },
    });
    await addMember(owner, orgId, deputy, role.roleId);
    const transfer = await api('POST', `/v1/orgs/${orgId}/transfer-ownership`, {
      token: deputy.accessToken,
      body: { userId: deputy.userId },
    });
    expect(transfer.status).toBe(403);
    const demote = await api('PATCH', `/v1/orgs/${orgId}/members/${second.userId}`, {
      token: deputy.accessToken,
      body: { role: 'viewer' },
    });
    expect(demote.status, JSON.stringify(demote.body)).toBe(403);
    expect(await roleOf(owner, orgId, second.userId)).toBe('owner');
  });

  it('refuses a non-member (404), oneself (422), an admin caller (403) and the personal organization (422)', async () => {
    const owner = await signUpUser('transfer-bad');
    const admin = await signUpUser('transfer-bad-a');
    const stranger = await signUpUser('transfer-bad-x');
    const { orgId } = await createTeam(owner, [{ user: admin, role: 'admin' }]);
    expect(
      (await api('POST', `/v1/orgs/${orgId}/transfer-ownership`, { token: owner.accessToken, body: { userId: stranger.userId } }))
        .status,
    ).toBe(404);
    expect(
      (await api('POST', `/v1/orgs/${orgId}/transfer-ownership`, { token: owner.accessToken, body: { userId: owner.userId } }))
        .status,
    ).toBe(422);
    expect(
      (await api('POST', `/v1/orgs/${orgId}/transfer-ownership`, { token: admin.accessToken, body: { userId: admin.userId } }))
        .status,
    ).toBe(403);
    expect(
      (
        await api('POST', `/v1/orgs/${owner.personalOrgId}/transfer-ownership`, {
          token: owner.accessToken,
          body: { userId: admin.userId },
        })
      ).status,
    ).toBe(422);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: owner.accessToken })).body.ownerId).toBe(owner.userId);
  });
});

describe.concurrent('leaving and being removed', () => {
  it('a member leaves: 204, then the organization is 404 for them and they are gone from the members', async () => {
    const owner = await signUpUser('leaver');
    const member = await signUpUser('leaver-m');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'editor' }]);
    const res = await api('DELETE', `/v1/me/orgs/${orgId}`, { token: member.accessToken });
    expect(res.status).toBe(204);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: member.accessToken })).status).toBe(404);
    expect((await membersOf(owner, orgId)).map((m) => m.userId)).not.toContain(member.userId);
    expect(
      (await api('GET', '/v1/orgs', { token: member.accessToken })).body.items.map((o: { orgId: string }) => o.orgId),
    ).not.toContain(orgId);
    // Leaving twice: not a member any more.
    expect((await api('DELETE', `/v1/me/orgs/${orgId}`, { token: member.accessToken })).status).toBe(404);
  });

  it('a viewer may leave too (leaving needs no permission)', async () => {
    const owner = await signUpUser('viewerleaves');
    const viewer = await signUpUser('viewerleaves-v');
    const { orgId } = await createTeam(owner, [{ user: viewer, role: 'viewer' }]);
    expect((await api('DELETE', `/v1/me/orgs/${orgId}`, { token: viewer.accessToken })).status).toBe(204);
  });

  it('nobody leaves their personal organization (422)', async () => {
    const user = await signUpUser('personal-leave');
    expect((await api('DELETE', `/v1/me/orgs/${user.personalOrgId}`, { token: user.accessToken })).status).toBe(422);
  });

  it('an admin removes a member, who then gets 404 on the organization', async () => {
    const owner = await signUpUser('remover');
    const admin = await signUpUser('remover-a');
    const member = await signUpUser('remover-m');
    const { orgId } = await createTeam(owner, [
      { user: admin, role: 'admin' },
      { user: member, role: 'editor' },
    ]);
    const res = await api('DELETE', `/v1/orgs/${orgId}/members/${member.userId}`, { token: admin.accessToken });
    expect(res.status).toBe(204);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: member.accessToken })).status).toBe(404);
    expect((await api('GET', `/v1/orgs/${orgId}/members`, { token: member.accessToken })).status).toBe(404);
    expect((await membersOf(owner, orgId)).map((m) => m.userId)).not.toContain(member.userId);
    expect((await api('DELETE', `/v1/orgs/${orgId}/members/${member.userId}`, { token: admin.accessToken })).status).toBe(404);
    // Removed members can be invited back.
    await addMember(owner, orgId, member, 'viewer');
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: member.accessToken })).body.role).toBe('viewer');
  });
});
