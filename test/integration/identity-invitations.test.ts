import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { authorizeOrg, type Caller } from '@platform/domain/identity/access';
import { authenticateApiKey, createApiClient } from '@platform/domain/identity/api-clients';
import { db, inboxService } from '@platform/domain/identity/entities';
import { acceptInvitation, createInvitation } from '@platform/domain/identity/invitations';
import { removeMember, updateMember } from '@platform/domain/identity/members';
import { createOrganization } from '@platform/domain/identity/organizations';
import { provisionUser } from '@platform/domain/identity/users';
import { setMailTransport } from '@platform/domain/shared/mail';

const user = (userId: string): Caller & { kind: 'user' } => ({ kind: 'user', userId, groups: [], isPlatformAdmin: false });
const newUser = async (name: string) => {
  const userId = randomUUID();
  const email = `${name}-${userId.slice(0, 6)}@example.test`;
  await provisionUser({ userId, email, emailVerified: true });
  return { userId, email };
};

/** A team owned by `owner`, with `others` as members in the given roles (written directly, as an accepted invitation would). */
async function teamOf(owner: string, others: Array<[{ userId: string; email: string }, string]> = []) {
  const org = await createOrganization(user(owner), { name: 'Team', slug: `team-${randomUUID().slice(0, 8)}`, orgType: 'TEAM' });
  for (const [{ userId, email }, role] of others)
    await db.membership
      .create({ orgId: org.orgId, userId, email, role, assignedBy: owner, assignedAt: new Date().toISOString() })
      .go();
  return org.orgId;
}

/** What a key needs to invite a viewer: it gives no role with permissions it does not hold. */
const KEY_SCOPES = ['invitations:create', 'org:read', 'members:read', 'roles:read'];

const invitationsOf = async (orgId: string) => (await db.invitation.query.byOrg({ orgId }).go({ pages: 'all' })).data;
const membershipOf = async (orgId: string, userId: string) =>
  (await db.membership.get({ orgId, userId }).go({ consistent: true })).data;

beforeAll(() => setMailTransport(async () => {}));
afterEach(() => vi.restoreAllMocks());

/**
 * An invitation is decided on reads made before its write: the sender's authorization (read with
 * the request) and the invitee's inbox. Each test changes what was read between those reads and
 * the write, by running the change after `authorizeOrg` and before `createInvitation`: the race's
 * interleaving, forced instead of hoped for.
 */
describe('an invitation decided on a stale read sends nothing (409)', () => {
  it('an admin removed after their authorization was read invites nobody', async () => {
    const [owner, admin] = [await newUser('inv-rm-o'), await newUser('inv-rm-a')];
    const orgId = await teamOf(owner.userId, [[admin, 'admin']]);
    const access = await authorizeOrg(user(admin.userId), orgId, 'invitations:create');
    await removeMember(await authorizeOrg(user(owner.userId), orgId), admin.userId);

    const outsider = `inv-rm-x-${randomUUID().slice(0, 6)}@example.test`;
    await expect(createInvitation(access, { email: outsider, role: 'admin' })).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('Your membership changed meanwhile'),
    });
    expect(await invitationsOf(orgId)).toEqual([]);
  });

  it('a temporary admin who leaves after their authorization was read cannot invite themselves back permanent', async () => {
    const [owner, temp] = [await newUser('inv-tmp-o'), await newUser('inv-tmp-a')];
    const orgId = await teamOf(owner.userId, [[temp, 'admin']]);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await updateMember(await authorizeOrg(user(owner.userId), orgId), temp.userId, { expiresAt: until });
    const access = await authorizeOrg(user(temp.userId), orgId, 'invitations:create');
    await removeMember(access, temp.userId, 'member.left');

    await expect(createInvitation(access, { email: temp.email, role: 'admin' })).rejects.toMatchObject({
      status: 409,
      fieldErrors: [{ path: 'email', message: 'Already a member' }],
    });
    expect(await invitationsOf(orgId)).toEqual([]);
    expect(await membershipOf(orgId, temp.userId)).toBeNull();
  });

  it('an admin demoted after their authorization was read invites nobody', async () => {
    const [owner, admin] = [await newUser('inv-dem-o'), await newUser('inv-dem-a')];
    const orgId = await teamOf(owner.userId, [[admin, 'admin']]);
    const access = await authorizeOrg(user(admin.userId), orgId, 'invitations:create');
    await updateMember(await authorizeOrg(user(owner.userId), orgId), admin.userId, { role: 'viewer' });

    const outsider = `inv-dem-x-${randomUUID().slice(0, 6)}@example.test`;
    await expect(createInvitation(access, { email: outsider, role: 'admin' })).rejects.toMatchObject({ status: 409 });
    expect(await invitationsOf(orgId)).toEqual([]);
  });

  it('an API key whose member is removed after the key was authorized invites nobody', async () => {
    const [owner, admin] = [await newUser('inv-key-o'), await newUser('inv-key-a')];
    const orgId = await teamOf(owner.userId, [[admin, 'admin']]);
    const { key } = await createApiClient(await authorizeOrg(user(admin.userId), orgId), {
      name: 'inviter',
      scopes: KEY_SCOPES,
    });
    const caller = (await authenticateApiKey(key))!;
    const access = await authorizeOrg(caller, orgId, 'invitations:create');
    // A control: while its member is there, the key invites.
    const first = `inv-key-x-${randomUUID().slice(0, 6)}@example.test`;
    await expect(createInvitation(access, { email: first, role: 'viewer' })).resolves.toMatchObject({ status: 'pending' });
    await removeMember(await authorizeOrg(user(owner.userId), orgId), admin.userId);

    const second = `inv-key-y-${randomUUID().slice(0, 6)}@example.test`;
    await expect(createInvitation(access, { email: second, role: 'viewer' })).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('The member this API key acts for'),
    });
    expect((await invitationsOf(orgId)).map((i) => i.email)).toEqual([first]);
  });

  it('an API key cannot invite the address of the member it acts for, who left meanwhile', async () => {
    const [owner, temp] = [await newUser('inv-kself-o'), await newUser('inv-kself-a')];
    const orgId = await teamOf(owner.userId, [[temp, 'admin']]);
    const { key } = await createApiClient(await authorizeOrg(user(temp.userId), orgId), {
      name: 'inviter',
      scopes: KEY_SCOPES,
    });
    const access = await authorizeOrg((await authenticateApiKey(key))!, orgId, 'invitations:create');
    await removeMember(await authorizeOrg(user(temp.userId), orgId), temp.userId, 'member.left');

    await expect(createInvitation(access, { email: temp.email, role: 'viewer' })).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('the member this API key acts for'),
    });
    expect(await invitationsOf(orgId)).toEqual([]);
  });

  it('someone who became a member after their inbox was read is not invited', async () => {
    const [owner, member] = [await newUser('inv-mem-o'), await newUser('inv-mem-m')];
    const orgId = await teamOf(owner.userId);
    const access = await authorizeOrg(user(owner.userId), orgId, 'invitations:create');
    // The inbox as read before they joined: their personal organization's membership only.
    const { data: before } = await inboxService().collections.inbox({ email: member.email }).go({ pages: 'all' });
    const assignedAt = new Date().toISOString();
    await db.membership
      .create({ orgId, userId: member.userId, email: member.email, role: 'viewer', assignedBy: owner.userId, assignedAt })
      .go();
    const collections = inboxService().collections;
    vi.spyOn(collections, 'inbox').mockReturnValueOnce({ go: async () => ({ data: before }) } as never);

    await expect(createInvitation(access, { email: member.email, role: 'admin' })).rejects.toMatchObject({
      status: 409,
      fieldErrors: [{ path: 'email', message: 'Already a member' }],
    });
    expect(await invitationsOf(orgId)).toEqual([]);
  });

  it('an invitation by a member still as authorized is sent, and accepted', async () => {
    const [owner, admin, invitee] = [await newUser('inv-ok-o'), await newUser('inv-ok-a'), await newUser('inv-ok-i')];
    const orgId = await teamOf(owner.userId, [[admin, 'admin']]);
    const access = await authorizeOrg(user(admin.userId), orgId, 'invitations:create');
    const sent = await createInvitation(access, { email: invitee.email, role: 'editor' });
    await expect(acceptInvitation(user(invitee.userId), sent.invitationId)).resolves.toMatchObject({ role: 'editor' });
  });
});
