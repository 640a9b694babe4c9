import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { authorizeOrg, type Caller } from '@platform/domain/identity/access';
import { deleteAccount } from '@platform/domain/identity/account';
import { authenticateApiKey, createApiClient, listApiClients, revokeApiClient } from '@platform/domain/identity/api-clients';
import { identityProvider } from '@platform/domain/identity/cognito';
import { db, type Invitation, type Membership } from '@platform/domain/identity/entities';
import { acceptInvitation, declineInvitation, revokeInvitation } from '@platform/domain/identity/invitations';
import { removeMember, transferOwnership, updateMember } from '@platform/domain/identity/members';
import { createOrganization, deleteOrganization, updateOrganization } from '@platform/domain/identity/organizations';
import { createRole, deleteRole } from '@platform/domain/identity/roles';
import { getUser, personalOrgId, provisionUser, updateProfile } from '@platform/domain/identity/users';
import { openSession } from '@platform/domain/identity/sessions';
import { decryptSecret, encryptSecret, sha256 } from '@platform/domain/shared/secrets';
import { newId } from '@platform/domain/shared/ids';
import { billingDb, ledgerDb } from '@platform/domain/billing/entities';
import { commitChange, getSubscription } from '@platform/domain/billing/subscription-store';
import { changePlan, subscriptionRead } from '@platform/domain/billing/subscriptions';
import { getBalance } from '@platform/domain/billing/ledger';
import { claimIdempotencyKey } from '@platform/http/idempotency';
import { Entity } from '@platform/domain/shared/dynamo';

const user = (userId: string): Caller & { kind: 'user' } => ({ kind: 'user', userId, groups: [], isPlatformAdmin: false });
const newUser = async (name = 'member') => {
  const userId = randomUUID();
  await provisionUser({ userId, email: `${name}-${userId.slice(0, 6)}@example.test`, emailVerified: true });
  return userId;
};

/** A pending invitation of `invitee` (an existing user) to the organization, with `role`, written as the domain writes one. */
async function pendingInvitation(orgId: string, invitee: string, role: string) {
  const { data: profile } = await db.user.get({ userId: invitee }).go();
  const now = Date.now();
  const { data } = await db.invitation
    .create({
      invitationId: `inv_${randomUUID().replace(/-/g, '').slice(0, 26)}`,
      orgId,
      orgName: 'Team',
      email: profile!.email.toLowerCase(),
      role,
      invitedBy: 'someone',
      expiresAt: new Date(now + 86_400_000).toISOString(),
      ttl: Math.floor(now / 1000) + 86_400 * 40,
    })
    .go();
  return data as Invitation;
}

describe('sign-up provisioning (against DynamoDB Local)', () => {
  it('creates user, personal organization, owner membership, Free subscription and first credits once, however often the trigger retries', async () => {
    const userId = randomUUID();
    const input = { userId, email: `retry-${userId.slice(0, 6)}@example.test`, emailVerified: true };
    const results = await Promise.all(Array.from({ length: 6 }, () => provisionUser(input)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const { data: memberships } = await db.membership.query.byUser({ userId }).go();
    expect(memberships).toMatchObject([{ orgId: personalOrgId(userId), role: 'owner' }]);
    const { data: org } = await db.organization.get({ orgId: personalOrgId(userId) }).go();
    expect(org).toMatchObject({ orgType: 'SOLO', ownerId: userId, ownerCount: 1 });
    const { data: subscription } = await billingDb.subscription.get({ orgId: personalOrgId(userId) }).go();
    expect(subscription).toMatchObject({ planId: 'free', status: 'Active' });
    const { data: grants } = await ledgerDb.transaction.query.byKey({ orgId: personalOrgId(userId) }).go();
    expect(grants).toMatchObject([{ type: 'grant', amount: 100 }]);
    expect(await getBalance(personalOrgId(userId))).toMatchObject({ available: 100, balance: 100 });
  });
});

describe('usernames', () => {
  const reservationOf = async (name: string) =>
    (await db.unique.get({ kind: 'username', value: name.toLowerCase() }).go({ consistent: true })).data;

  it('a username change decided on a read made stale by another change is a 409 that reserves and releases nothing', async () => {
    const userId = await newUser('uname-race');
    const suffix = userId.slice(0, 8);
    await updateProfile(userId, { username: `first_${suffix}` });
    const stale = await getUser(userId);
    await updateProfile(userId, { username: `winner_${suffix}` });

    readsStale(db.user, stale);
    await expect(updateProfile(userId, { username: `loser_${suffix}` })).rejects.toMatchObject({ status: 409 });
    expect((await getUser(userId))!.username).toBe(`winner_${suffix}`);
    expect(await reservationOf(`loser_${suffix}`)).toBeNull();
    expect(await reservationOf(`winner_${suffix}`)).toMatchObject({ ownerId: userId });
  });

  it('a first username chosen on a read made stale by another first choice is a 409 too', async () => {
    const userId = await newUser('uname-first');
    const suffix = userId.slice(0, 8);
    const stale = await getUser(userId);
    await updateProfile(userId, { username: `winner_${suffix}` });

    readsStale(db.user, stale);
    await expect(updateProfile(userId, { username: `loser_${suffix}` })).rejects.toMatchObject({ status: 409 });
    expect(await reservationOf(`loser_${suffix}`)).toBeNull();
    expect((await getUser(userId))!.username).toBe(`winner_${suffix}`);
  });

  it('changing only the case of my username keeps its reservation and changes the name', async () => {
    const userId = await newUser('uname-case');
    const name = `Case_${userId.slice(0, 8)}`;
    await updateProfile(userId, { username: name });
    expect(await updateProfile(userId, { username: name.toLowerCase() })).toMatchObject({ username: name.toLowerCase() });
    expect((await getUser(userId))!.username).toBe(name.toLowerCase());
    expect(await reservationOf(name)).toMatchObject({ ownerId: userId });
  });
});

describe('sessions', () => {
  it('opening a session for a user with no profile throws and writes no session', async () => {
    const userId = randomUUID();
    const payload = Buffer.from(JSON.stringify({ sub: userId })).toString('base64url');
    const tokens = {
      accessToken: `e30.${payload}.sig`,
      idToken: 'x',
      refreshToken: 'not-a-cognito-token',
      expiresIn: 3600,
      tokenType: 'Bearer' as const,
    };
    await expect(openSession(tokens, {})).rejects.toMatchObject({ status: 403 });
    expect((await db.session.query.byUser({ userId }).go()).data).toEqual([]);
    expect(await getUser(userId)).toBeNull();
  });
});

describe('an organization always keeps an owner', () => {
  it('lets only one of two owners step down when both try at once', async () => {
    const [first, second] = [await newUser('owner1'), await newUser('owner2')];
    const org = await createOrganization(user(first), { name: 'Race', slug: `race-${first.slice(0, 8)}`, orgType: 'TEAM' });
    const { data: profile } = await db.user.get({ userId: second }).go();
    await db.membership
      .create({
        orgId: org.orgId,
        userId: second,
        email: profile!.email,
        role: 'owner',
        assignedBy: first,
        assignedAt: new Date().toISOString(),
      })
      .go();
    await db.organization.patch({ orgId: org.orgId }).add({ ownerCount: 1 }).go();

    const [accessOfFirst, accessOfSecond] = await Promise.all([
      authorizeOrg(user(first), org.orgId),
      authorizeOrg(user(second), org.orgId),
    ]);
    const outcomes = await Promise.allSettled([
      updateMember(accessOfFirst, second, { role: 'admin' }),
      updateMember(accessOfSecond, first, { role: 'admin' }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const { data: members } = await db.membership.query.byOrg({ orgId: org.orgId }).go();
    expect(members.filter((m) => m.role === 'owner')).toHaveLength(1);
    const { data: after } = await db.organization.get({ orgId: org.orgId }).go();
    expect(after!.ownerCount).toBe(1);
  });
});

/** A team owned by `owner`, with `others` as members in the given roles (written directly, as an accepted invitation would). */
async function teamOf(owner: string, others: Array<[string, string]> = []) {
  const org = await createOrganization(user(owner), { name: 'Team', slug: `team-${randomUUID().slice(0, 8)}`, orgType: 'TEAM' });
  for (const [userId, role] of others) {
    const { data: profile } = await db.user.get({ userId }).go();
    await db.membership
      .create({ orgId: org.orgId, userId, email: profile!.email, role, assignedBy: owner, assignedAt: new Date().toISOString() })
      .go();
  }
  return org.orgId;
}

async function ownersOf(orgId: string) {
  const [{ data: org }, { data: members }] = await Promise.all([
    db.organization.get({ orgId }).go({ consistent: true }),
    db.membership.query.byOrg({ orgId }).go({ pages: 'all' }),
  ]);
  const owners = members.filter((m) => m.role === 'owner' && m.isActive !== false).map((m) => m.userId);
  return { owners, ownerCount: org!.ownerCount, ownerId: org!.ownerId };
}

/**
 * The service's next read of this kind of item answers `snapshot`: as if another request changed
 * the item right after the service read it. Forces the race's interleaving instead of hoping for it.
 */
function readsStale(entity: { get: (...args: never[]) => unknown }, snapshot: unknown) {
  return vi.spyOn(entity, 'get').mockReturnValueOnce({ go: async () => ({ data: snapshot }) } as never);
}

const membershipOf = async (orgId: string, userId: string) =>
  (await db.membership.get({ orgId, userId }).go({ consistent: true })).data as Membership;

describe('member changes decided on a stale read change nothing (409)', () => {
  it('a role change of a member made owner since it was read is refused, and the owner count stays right', async () => {
    const [owner, member] = [await newUser('stale-o'), await newUser('stale-m')];
    const orgId = await teamOf(owner, [[member, 'admin']]);
    const access = await authorizeOrg(user(owner), orgId);
    const asAdmin = await membershipOf(orgId, member);
    await updateMember(access, member, { role: 'owner' });

    readsStale(db.membership, asAdmin);
    await expect(updateMember(access, member, { role: 'viewer' })).rejects.toMatchObject({ status: 409 });
    expect(await ownersOf(orgId)).toMatchObject({ owners: expect.arrayContaining([owner, member]), ownerCount: 2 });
    // And the last owner still cannot step down once the other does.
    await updateMember(access, member, { role: 'admin' });
    await expect(updateMember(access, owner, { role: 'admin' })).rejects.toMatchObject({ status: 409 });
    expect(await ownersOf(orgId)).toMatchObject({ owners: [owner], ownerCount: 1 });
  });

  it('removing a member made owner since it was read is refused, and they stay a counted owner', async () => {
    const [owner, member] = [await newUser('stale-rm-o'), await newUser('stale-rm-m')];
    const orgId = await teamOf(owner, [[member, 'admin']]);
    const access = await authorizeOrg(user(owner), orgId);
    const asAdmin = await membershipOf(orgId, member);
    await updateMember(access, member, { role: 'owner' });

    readsStale(db.membership, asAdmin);
    await expect(removeMember(access, member)).rejects.toMatchObject({ status: 409 });
    const after = await ownersOf(orgId);
    expect(after.owners.sort()).toEqual([owner, member].sort());
    expect(after.ownerCount).toBe(2);
  });

  it('a transfer to a member removed meanwhile is a 409, not a 204 that changed nothing', async () => {
    const [owner, heir] = [await newUser('stale-tr-o'), await newUser('stale-tr-h')];
    const orgId = await teamOf(owner, [[heir, 'admin']]);
    const access = await authorizeOrg(user(owner), orgId);
    const asRead = await membershipOf(orgId, heir);
    await removeMember(access, heir);

    readsStale(db.membership, asRead);
    await expect(transferOwnership(access, heir)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('no longer in the organization'),
    });
    expect(await ownersOf(orgId)).toEqual({ owners: [owner], ownerCount: 1, ownerId: owner });
  });

  it('of two transfers by the same owner, the second (the caller no longer owner) is refused', async () => {
    const [owner, b, c] = [await newUser('stale-2tr-o'), await newUser('stale-2tr-b'), await newUser('stale-2tr-c')];
    const orgId = await teamOf(owner, [
      [b, 'admin'],
      [c, 'admin'],
    ]);
    const access = await authorizeOrg(user(owner), orgId);
    await transferOwnership(access, b);
    await expect(transferOwnership(access, c)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('no longer an owner'),
    });
    expect(await ownersOf(orgId)).toEqual({ owners: [b], ownerCount: 1, ownerId: b });
    expect((await membershipOf(orgId, c)).role).toBe('admin');
  });
});

describe('the recorded owner (ownerId) names a live owner, also when changes race', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Runs `meanwhile` right after a change reads the owners of `orgId` (to pick an heir), before it writes. */
  function afterOwnersRead(orgId: string, meanwhile: () => Promise<unknown>) {
    const byOrg = db.membership.query.byOrg.bind(db.membership.query);
    vi.spyOn(db.membership.query, 'byOrg').mockImplementationOnce(((key: { orgId: string }) => {
      const query = byOrg(key);
      if (key.orgId !== orgId) return query;
      return {
        where: (condition: never) => ({
          go: async (options: never) => {
            const read = await query.where(condition).go(options);
            await meanwhile();
            return read;
          },
        }),
      };
    }) as never);
  }

  it('a hand-over to an owner who stepped down meanwhile is refused (409): nothing changes', async () => {
    const [owner, b, c] = [await newUser('rec-race-o'), await newUser('rec-race-b'), await newUser('rec-race-c')];
    const orgId = await teamOf(owner, [
      [b, 'owner'],
      [c, 'owner'],
    ]);
    await db.organization.patch({ orgId }).add({ ownerCount: 2 }).go();
    // The heir is the first live owner by id: it steps down between the read and the hand-over.
    const [heir, other] = [b, c].sort() as [string, string];
    afterOwnersRead(orgId, async () => updateMember(await authorizeOrg(user(other), orgId), heir, { role: 'admin' }));
    await expect(removeMember(await authorizeOrg(user(owner), orgId), owner, 'member.left')).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('owners changed meanwhile'),
    });
    const after = await ownersOf(orgId);
    expect({ ...after, owners: after.owners.sort() }).toEqual({ owners: [owner, other].sort(), ownerCount: 2, ownerId: owner });
  });

  it('an owner’s departure decided before the record passed to them is refused (409): the record never names someone gone', async () => {
    const [owner, b, c]: [string, string, string] = [
      await newUser('rec-stale-o'),
      await newUser('rec-stale-b'),
      await newUser('rec-stale-c'),
    ];
    const orgId = await teamOf(owner, [
      [b, 'owner'],
      [c, 'owner'],
    ]);
    await db.organization.patch({ orgId }).add({ ownerCount: 2 }).go();
    // Both read the organization while `owner` is its recorded owner.
    const readBefore = new Map([
      [b, await authorizeOrg(user(b), orgId)],
      [c, await authorizeOrg(user(c), orgId)],
    ]);
    await removeMember(await authorizeOrg(user(owner), orgId), owner, 'member.left');
    const { ownerId: heir } = await ownersOf(orgId);
    expect([b, c]).toContain(heir);

    await expect(removeMember(readBefore.get(heir)!, heir, 'member.left')).rejects.toMatchObject({ status: 409 });
    const after = await ownersOf(orgId);
    expect(after.ownerId).toBe(heir);
    expect(after.owners).toContain(heir);
    expect(after.ownerCount).toBe(2);
  });

  it('passes the record to a live owner, never to a suspended one', async () => {
    const [owner, live] = [await newUser('rec-live-o'), await newUser('rec-live-l')];
    const orgId = await teamOf(owner, [[live, 'owner']]);
    await db.organization.patch({ orgId }).add({ ownerCount: 1 }).go();
    // A suspended owner whose id sorts before any other.
    const suspended = `00000000-${randomUUID().slice(9)}`;
    await db.membership
      .create({
        orgId,
        userId: suspended,
        email: 'suspended@example.test',
        role: 'owner',
        isActive: false,
        assignedBy: owner,
        assignedAt: new Date().toISOString(),
      })
      .go();
    await removeMember(await authorizeOrg(user(owner), orgId), owner, 'member.left');
    expect(await ownersOf(orgId)).toEqual({ owners: [live], ownerCount: 1, ownerId: live });
  });
});

describe('an account deleted while someone makes it an owner: every organization keeps a live owner', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Deletes `userId`'s account as DELETE /v1/me does (Cognito left out: these users are not in it). */
  const deleteAccountOf = (userId: string) => {
    vi.spyOn(identityProvider, 'disableEverywhere').mockResolvedValue(undefined);
    return deleteAccount(userId, userId);
  };

  /**
   * Runs `meanwhile` right after the deletion reads `userId`'s memberships for the `nth` time
   * (1: its first look; 2: its read once the account is closed), before it writes anything
   * more: forces the race's interleaving. `outcome.settled` tells how `meanwhile` ended.
   */
  function afterMembershipsRead(userId: string, nth: 1 | 2, meanwhile: () => Promise<unknown>) {
    const byUser = db.membership.query.byUser.bind(db.membership.query);
    const outcome: { settled?: PromiseSettledResult<unknown> } = {};
    let reads = 0;
    vi.spyOn(db.membership.query, 'byUser').mockImplementation(((key: { userId: string }) => {
      const query = byUser(key);
      if (key.userId !== userId || ++reads !== nth) return query;
      return {
        go: async (options: never) => {
          const read = await query.go(options);
          [outcome.settled] = await Promise.allSettled([meanwhile()]);
          return read;
        },
      };
    }) as never);
    return outcome;
  }

  const isDeleted = async (userId: string) => !!(await getUser(userId))?.deletedAt;
  /** Neither deleted nor left closed: a refused deletion leaves the account as it was. */
  const isOpen = async (userId: string) => {
    const profile = await getUser(userId);
    return !!profile && !profile.deletedAt && profile.isActive !== false;
  };

  it('a promotion to owner landing after the deletion’s first look is counted: the other owner stays the last one', async () => {
    const [owner, member] = [await newUser('del-pro-o'), await newUser('del-pro-m')];
    const orgId = await teamOf(owner, [[member, 'admin']]);
    const access = await authorizeOrg(user(owner), orgId);
    const promotion = afterMembershipsRead(member, 1, () => updateMember(access, member, { role: 'owner' }));

    await deleteAccountOf(member);
    expect(promotion.settled?.status).toBe('fulfilled');
    expect(await isDeleted(member)).toBe(true);
    expect(await ownersOf(orgId)).toMatchObject({ owners: [owner], ownerCount: 1 });
    await expect(removeMember(await authorizeOrg(user(owner), orgId), owner, 'member.left')).rejects.toMatchObject({
      status: 409,
    });
  });

  it('a promotion to owner once the deletion closed the account is refused (422)', async () => {
    const [owner, member] = [await newUser('del-pro2-o'), await newUser('del-pro2-m')];
    const orgId = await teamOf(owner, [[member, 'admin']]);
    const access = await authorizeOrg(user(owner), orgId);
    const promotion = afterMembershipsRead(member, 2, () => updateMember(access, member, { role: 'owner' }));

    await deleteAccountOf(member);
    expect(promotion.settled).toMatchObject({ status: 'rejected', reason: { status: 422 } });
    expect(await isDeleted(member)).toBe(true);
    expect(await ownersOf(orgId)).toMatchObject({ owners: [owner], ownerCount: 1 });
  });

  it('a membership changed after the deletion read it is not ended on that read: 409, and the account stays open', async () => {
    const [owner, member] = [await newUser('del-stale-o'), await newUser('del-stale-m')];
    const orgId = await teamOf(owner, [[member, 'admin']]);
    const asAdmin = await membershipOf(orgId, member);
    await updateMember(await authorizeOrg(user(owner), orgId), member, { role: 'owner' });
    const byUser = db.membership.query.byUser.bind(db.membership.query);
    vi.spyOn(db.membership.query, 'byUser').mockImplementation(((key: { userId: string }) => {
      if (key.userId !== member) return byUser(key);
      return { go: async () => ({ data: [asAdmin] }) };
    }) as never);

    await expect(deleteAccountOf(member)).rejects.toMatchObject({ status: 409 });
    expect(await isOpen(member)).toBe(true);
    expect((await ownersOf(orgId)).ownerCount).toBe(2);
    expect((await membershipOf(orgId, member)).isActive).not.toBe(false);
    // Read again, the deletion counts them as the owner they are.
    vi.restoreAllMocks();
    await deleteAccountOf(member);
    expect(await ownersOf(orgId)).toMatchObject({ owners: [owner], ownerCount: 1 });
  });

  it('a transfer to the member landing after the deletion’s first look makes them the last owner: the deletion is a 409', async () => {
    const [owner, heir] = [await newUser('del-tr-o'), await newUser('del-tr-h')];
    const orgId = await teamOf(owner, [[heir, 'admin']]);
    const access = await authorizeOrg(user(owner), orgId);
    const transfer = afterMembershipsRead(heir, 1, () => transferOwnership(access, heir));

    await expect(deleteAccountOf(heir)).rejects.toMatchObject({ status: 409, message: expect.stringContaining('Transfer') });
    expect(transfer.settled?.status).toBe('fulfilled');
    expect(await isOpen(heir)).toBe(true);
    expect(await ownersOf(orgId)).toEqual({ owners: [heir], ownerCount: 1, ownerId: heir });
  });

  it('a transfer once the deletion closed the account is refused (422): the owner stays', async () => {
    const [owner, heir] = [await newUser('del-tr2-o'), await newUser('del-tr2-h')];
    const orgId = await teamOf(owner, [[heir, 'admin']]);
    const access = await authorizeOrg(user(owner), orgId);
    const transfer = afterMembershipsRead(heir, 2, () => transferOwnership(access, heir));

    await deleteAccountOf(heir);
    expect(transfer.settled).toMatchObject({ status: 'rejected', reason: { status: 422 } });
    expect(await isDeleted(heir)).toBe(true);
    expect(await ownersOf(orgId)).toEqual({ owners: [owner], ownerCount: 1, ownerId: owner });
  });

  it('an owner invitation accepted after the deletion’s first look ends with the account, uncounted', async () => {
    const [owner, invitee] = [await newUser('del-acc-o'), await newUser('del-acc-i')];
    const orgId = await teamOf(owner);
    const invitation = await pendingInvitation(orgId, invitee, 'owner');
    const acceptance = afterMembershipsRead(invitee, 1, () => acceptInvitation(user(invitee), invitation.invitationId));

    await deleteAccountOf(invitee);
    expect(acceptance.settled?.status).toBe('fulfilled');
    expect(await isDeleted(invitee)).toBe(true);
    expect((await membershipOf(orgId, invitee)).isActive).toBe(false);
    expect(await ownersOf(orgId)).toMatchObject({ owners: [owner], ownerCount: 1 });
  });

  it('creating a team once the deletion closed the account is refused (404): no team is owned by a deleted account', async () => {
    const creator = await newUser('del-team');
    const slug = `del-team-${randomUUID().slice(0, 8)}`;
    const creation = afterMembershipsRead(creator, 2, () =>
      createOrganization(user(creator), { name: 'Late team', slug, orgType: 'TEAM' }),
    );

    await deleteAccountOf(creator);
    expect(creation.settled).toMatchObject({ status: 'rejected', reason: { status: 404 } });
    expect((await db.unique.get({ kind: 'slug', value: slug }).go({ consistent: true })).data).toBeNull();
    expect((await db.membership.query.byUser({ userId: creator }).go()).data.filter((m) => m.isActive !== false)).toEqual([]);
  });

  it('accepting an owner invitation once the deletion closed the account is refused (404) and makes no member', async () => {
    const [owner, invitee] = [await newUser('del-acc2-o'), await newUser('del-acc2-i')];
    const orgId = await teamOf(owner);
    const invitation = await pendingInvitation(orgId, invitee, 'owner');
    const acceptance = afterMembershipsRead(invitee, 2, () => acceptInvitation(user(invitee), invitation.invitationId));

    await deleteAccountOf(invitee);
    expect(acceptance.settled).toMatchObject({ status: 'rejected', reason: { status: 404 } });
    expect((await db.membership.get({ orgId, userId: invitee }).go({ consistent: true })).data).toBeNull();
    expect(await ownersOf(orgId)).toMatchObject({ owners: [owner], ownerCount: 1 });
  });
});

describe('an account deleted with its personal organization’s billing', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Deletes `userId`'s account as DELETE /v1/me does (Cognito left out: these users are not in it). */
  const deleteAccountOf = (userId: string) => {
    vi.spyOn(identityProvider, 'disableEverywhere').mockResolvedValue(undefined);
    return deleteAccount(userId, userId);
  };

  it('Stripe refusing to cancel the personal organization’s subscription is a 502: nothing is deleted, the account stays open', async () => {
    const userId = await newUser('del-stripe');
    const orgId = personalOrgId(userId);
    const prev = await getSubscription(orgId);
    // Billed by a Stripe subscription the local Stripe does not have: cancelling it is refused.
    const stripeId = `sub_nowhere_${userId.slice(0, 8)}`;
    const billed = { planId: 'pro', paymentProvider: 'Stripe' as const, providerSubscriptionId: stripeId };
    expect((await commitChange({ prev, next: { ...prev, ...billed } })).ok).toBe(true);

    await expect(deleteAccountOf(userId)).rejects.toMatchObject({ status: 502 });
    const profile = await getUser(userId);
    const { data: org } = await db.organization.get({ orgId }).go({ consistent: true });
    const sub = await getSubscription(orgId);
    expect({
      deleted: profile!.deletedAt ?? org!.deletedAt,
      open: profile!.isActive !== false,
      membership: (await db.membership.get({ orgId, userId }).go({ consistent: true })).data!.isActive !== false,
      sub: { planId: sub.planId, status: sub.status, stripe: sub.providerSubscriptionId, claim: sub.claimedUntil },
    }).toEqual({
      deleted: undefined,
      open: true,
      membership: true,
      sub: { planId: 'pro', status: 'Active', stripe: stripeId, claim: undefined },
    });
  });

  it('a trial of the personal organization started on a read from before the account’s deletion is refused (409)', async () => {
    const userId = await newUser('del-trial');
    const orgId = personalOrgId(userId);
    // The trial request is authorized, with the subscription read along, before the deletion runs.
    const trial = await authorizeOrg(user(userId), orgId, 'billing:manage', [subscriptionRead(orgId)]);
    await deleteAccountOf(userId);

    await expect(changePlan(trial, 'pro')).rejects.toMatchObject({ status: 409 });
    expect(await getSubscription(orgId)).toMatchObject({ planId: 'free', status: 'Active' });
    expect((await billingDb.due.query.byOrg({ orgId }).go({ consistent: true })).data).toEqual([]);
  });
});

describe('a custom role deleted while it is given: one of the two is a 409, nobody holds a deleted role', () => {
  /** The role deletion's count of the role's holders answers none: as if it ran before the role was given. */
  const holdersCountedBefore = () =>
    vi.spyOn(db.membership.query, 'byOrg').mockReturnValueOnce({ where: () => ({ go: async () => ({ data: [] }) }) } as never);
  const rolesOf = async (orgId: string) =>
    ((await db.organization.get({ orgId }).go({ consistent: true })).data!.roles ?? []).map((r) => r.roleId);

  async function teamWithRole(name: string, memberRole = 'viewer') {
    const [owner, member] = [await newUser(`${name}-o`), await newUser(`${name}-m`)];
    const orgId = await teamOf(owner, [[member, memberRole]]);
    const role = await createRole(await authorizeOrg(user(owner), orgId), { name: 'Reader', permissions: ['org:read'] });
    return { owner, member, orgId, roleId: role.roleId, fresh: () => authorizeOrg(user(owner), orgId) };
  }

  it('giving a role deleted since the organization was read is refused, and the member keeps their role', async () => {
    const { member, orgId, roleId, fresh } = await teamWithRole('cr-give');
    const stale = await fresh();
    await deleteRole(await fresh(), roleId);

    await expect(updateMember(stale, member, { role: roleId })).rejects.toMatchObject({ status: 409 });
    expect((await membershipOf(orgId, member)).role).toBe('viewer');
  });

  it('deleting a role given after its holders were counted is refused, and the role stays', async () => {
    const { member, orgId, roleId, fresh } = await teamWithRole('cr-del');
    const forDeletion = await fresh();
    await updateMember(await fresh(), member, { role: roleId });

    holdersCountedBefore();
    await expect(deleteRole(forDeletion, roleId)).rejects.toMatchObject({ status: 409 });
    expect(await rolesOf(orgId)).toContain(roleId);
    expect((await membershipOf(orgId, member)).role).toBe(roleId);
  });

  it('an owner stepping down to a custom role still keeps an owner (409 for the last one)', async () => {
    const { owner, member, orgId, roleId, fresh } = await teamWithRole('cr-owner', 'owner');
    await db.organization.patch({ orgId }).add({ ownerCount: 1 }).go();
    await updateMember(await fresh(), member, { role: roleId });
    await expect(updateMember(await fresh(), owner, { role: roleId })).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('always keeps an owner'),
    });
    expect(await ownersOf(orgId)).toMatchObject({ owners: [owner], ownerCount: 1 });
  });

  const membershipOrNull = async (orgId: string, userId: string) =>
    (await db.membership.get({ orgId, userId }).go({ consistent: true })).data;

  it('accepting an invitation whose role was deleted after the organization was read is refused, and makes no member', async () => {
    const { orgId, roleId, fresh } = await teamWithRole('cr-acc');
    const invitee = await newUser('cr-acc-i');
    const invitation = await pendingInvitation(orgId, invitee, roleId);
    const { data: withRole } = await db.organization.get({ orgId }).go({ consistent: true });
    await deleteRole(await fresh(), roleId);

    readsStale(db.organization, withRole);
    await expect(acceptInvitation(user(invitee), invitation.invitationId)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('no longer exists'),
    });
    expect(await membershipOrNull(orgId, invitee)).toBeNull();
    expect((await db.invitation.get({ invitationId: invitation.invitationId }).go()).data?.status).toBe('pending');
  });

  it('deleting a role given by an invitation accepted after its holders were counted is refused, and the role stays', async () => {
    const { orgId, roleId, fresh } = await teamWithRole('cr-acc-del');
    const invitee = await newUser('cr-acc-del-i');
    const invitation = await pendingInvitation(orgId, invitee, roleId);
    const forDeletion = await fresh();
    await acceptInvitation(user(invitee), invitation.invitationId);

    holdersCountedBefore();
    await expect(deleteRole(forDeletion, roleId)).rejects.toMatchObject({ status: 409 });
    expect(await rolesOf(orgId)).toContain(roleId);
    expect((await membershipOf(orgId, invitee)).role).toBe(roleId);
  });
});

describe('answering an invitation answered meanwhile (409, nothing changed)', () => {
  const auditsOf = async (orgId: string, action: string) =>
    (await db.auditEvent.query.byOrg({ orgId }).go({ pages: 'all' })).data.filter((e) => e.action === action);

  it('revoking an invitation accepted meanwhile is refused: it stays accepted, no revocation audited', async () => {
    const [owner, invitee] = [await newUser('inv-rv-o'), await newUser('inv-rv-i')];
    const orgId = await teamOf(owner);
    const pending = await pendingInvitation(orgId, invitee, 'viewer');
    const access = await authorizeOrg(user(owner), orgId);
    await acceptInvitation(user(invitee), pending.invitationId);

    readsStale(db.invitation, pending);
    await expect(revokeInvitation(access, pending.invitationId)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('accepted'),
    });
    expect((await db.invitation.get({ invitationId: pending.invitationId }).go()).data?.status).toBe('accepted');
    expect(await auditsOf(orgId, 'invitation.revoked')).toHaveLength(0);
  });

  it('declining an invitation accepted meanwhile is refused: no decline audited', async () => {
    const [owner, invitee] = [await newUser('inv-dc-o'), await newUser('inv-dc-i')];
    const orgId = await teamOf(owner);
    const pending = await pendingInvitation(orgId, invitee, 'viewer');
    await acceptInvitation(user(invitee), pending.invitationId);

    // The decline reads the invitation with the profile, in one TransactGet: its parse answers the stale item.
    vi.spyOn(db.invitation, 'parse').mockReturnValueOnce({ data: pending } as never);
    await expect(declineInvitation(user(invitee), pending.invitationId)).rejects.toMatchObject({ status: 409 });
    expect((await db.invitation.get({ invitationId: pending.invitationId }).go()).data?.status).toBe('accepted');
    expect(await auditsOf(orgId, 'invitation.declined')).toHaveLength(0);
  });
});

describe('deleting and revoking on a stale read', () => {
  const auditsOf = async (orgId: string, action: string) =>
    (await db.auditEvent.query.byOrg({ orgId }).go({ pages: 'all' })).data.filter((e) => e.action === action);

  it('deleting a team whose slug changed since it was read is a 409: nothing deleted, the new slug stays its own', async () => {
    const owner = await newUser('del-slug');
    const orgId = await teamOf(owner);
    const stale = await authorizeOrg(user(owner), orgId);
    const newSlug = `moved-${randomUUID().slice(0, 8)}`;
    await updateOrganization(await authorizeOrg(user(owner), orgId), { slug: newSlug });

    await expect(deleteOrganization(stale)).rejects.toMatchObject({ status: 409 });
    const { data: org } = await db.organization.get({ orgId }).go({ consistent: true });
    expect(org).toMatchObject({ slug: newSlug });
    expect(org!.deletedAt).toBeUndefined();
    // Deleted on a fresh read, it releases the slug it has.
    await deleteOrganization(await authorizeOrg(user(owner), orgId));
    const { data: slugRow } = await db.unique.get({ kind: 'slug', value: newSlug }).go({ consistent: true });
    expect(slugRow).toBeNull();
  });

  it('a second delete on the same read is a 404 and audits nothing more', async () => {
    const owner = await newUser('del-twice');
    const orgId = await teamOf(owner);
    const access = await authorizeOrg(user(owner), orgId);
    await deleteOrganization(access);
    await expect(deleteOrganization(access)).rejects.toMatchObject({ status: 404 });
    expect(await auditsOf(orgId, 'org.deleted')).toHaveLength(1);
  });

  it('a second revocation of an API client read before the first is refused and audits nothing more', async () => {
    const owner = await newUser('rev-twice');
    const orgId = await teamOf(owner);
    const access = await authorizeOrg(user(owner), orgId);
    const client = await createApiClient(access, { name: 'k', scopes: ['org:read'] });
    const { data: unrevoked } = await db.apiClient.get({ clientId: client.clientId }).go();
    await revokeApiClient(access, client.clientId);

    readsStale(db.apiClient, unrevoked);
    await expect(revokeApiClient(access, client.clientId)).rejects.toMatchObject({ status: 409 });
    expect(await auditsOf(orgId, 'api-client.revoked')).toHaveLength(1);
  });
});

describe('secrets at rest', () => {
  it('round-trips through envelope encryption and refuses another context', async () => {
    const blob = await encryptSecret('refresh-token-value', { userId: 'u1', sessionId: 's1' });
    expect(blob).not.toContain('refresh-token-value');
    expect(await decryptSecret(blob, { sessionId: 's1', userId: 'u1' })).toBe('refresh-token-value');
    await expect(decryptSecret(blob, { userId: 'u2', sessionId: 's1' })).rejects.toThrow();
  });
});

describe('idempotency keys', () => {
  it('tells keys apart by case: they are the client’s values', async () => {
    const scope = `test#${randomUUID()}`;
    expect((await claimIdempotencyKey(scope, 'Order-ABCDEFGH', '{}')).kind).toBe('run');
    expect((await claimIdempotencyKey(scope, 'order-abcdefgh', '{}')).kind).toBe('run');
  });

  it('runs the first request, replays it after, and refuses a different body or a concurrent twin', async () => {
    const scope = `test#${randomUUID()}`;
    const first = await claimIdempotencyKey(scope, 'key-12345678', '{"a":1}');
    expect(first.kind).toBe('run');
    await expect(claimIdempotencyKey(scope, 'key-12345678', '{"a":1}')).rejects.toMatchObject({ status: 409 });
    if (first.kind === 'run') await first.complete({ statusCode: 201, body: '{"id":"x"}' });
    expect(await claimIdempotencyKey(scope, 'key-12345678', '{"a":1}')).toMatchObject({
      kind: 'replay',
      response: { statusCode: 201 },
    });
    await expect(claimIdempotencyKey(scope, 'key-12345678', '{"a":2}')).rejects.toMatchObject({ status: 422 });
  });

  it('forgets a record past its 24 hours, whenever DynamoDB deletes it: the key runs again, with any body', async () => {
    const scope = `test#${randomUUID()}`;
    const start = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(start);
    try {
      const first = await claimIdempotencyKey(scope, 'key-expired-1', '{"a":1}');
      if (first.kind === 'run') await first.complete({ statusCode: 201, body: '{"id":"x"}' });
      clock.mockReturnValue(start + 24 * 3_600_000 - 1_000);
      expect((await claimIdempotencyKey(scope, 'key-expired-1', '{"a":1}')).kind).toBe('replay');
      clock.mockReturnValue(start + 24 * 3_600_000 + 1_000);
      const again = await claimIdempotencyKey(scope, 'key-expired-1', '{"a":2}');
      expect(again.kind).toBe('run');
      // A retry meanwhile finds the new run still processing (409); once it completes, its answer is replayed.
      await expect(claimIdempotencyKey(scope, 'key-expired-1', '{"a":2}')).rejects.toMatchObject({ status: 409 });
      if (again.kind === 'run') await again.complete({ statusCode: 201, body: '{"id":"y"}' });
      expect(await claimIdempotencyKey(scope, 'key-expired-1', '{"a":2}')).toMatchObject({
        kind: 'replay',
        response: { body: '{"id":"y"}' },
      });
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('of two retries that both read a lapsed claim, only one takes it over and runs', async () => {
    const scope = `test#${randomUUID()}`;
    const body = '{"a":1}';
    const start = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(start);
    try {
      expect((await claimIdempotencyKey(scope, 'key-lapsed-1', body)).kind).toBe('run');
      const lapsed = {
        scope,
        key: 'key-lapsed-1',
        payloadHash: createHash('sha256').update(body).digest('base64url'),
        status: 'in-progress',
        lockedUntil: Math.floor(start / 1000) + 30,
      };
      clock.mockReturnValue(start + 31_000);
      expect((await claimIdempotencyKey(scope, 'key-lapsed-1', body)).kind).toBe('run');

      // The second retry read the claim before the first took it over.
      vi.spyOn(Entity.prototype, 'get').mockReturnValueOnce({ go: async () => ({ data: lapsed }) } as never);
      await expect(claimIdempotencyKey(scope, 'key-lapsed-1', body)).rejects.toMatchObject({ status: 409 });
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('lets a run whose lock lapsed neither store its answer over, nor give up, the claim a retry took over', async () => {
    const scope = `test#${randomUUID()}`;
    const start = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(start);
    try {
      const slow = await claimIdempotencyKey(scope, 'key-slow-12', '{}');
      if (slow.kind !== 'run') throw new Error('expected to run');
      clock.mockReturnValue(start + 31_000);
      const retry = await claimIdempotencyKey(scope, 'key-slow-12', '{}');
      if (retry.kind !== 'run') throw new Error('expected to run');

      // The slow run ends after the takeover: what it does touches nothing of the retry's claim.
      await slow.abandon();
      await expect(claimIdempotencyKey(scope, 'key-slow-12', '{}')).rejects.toMatchObject({ status: 409 });
      await slow.complete({ statusCode: 201, body: '{"by":"slow"}' });
      await expect(claimIdempotencyKey(scope, 'key-slow-12', '{}')).rejects.toMatchObject({ status: 409 });

      await retry.complete({ statusCode: 201, body: '{"by":"retry"}' });
      await slow.complete({ statusCode: 201, body: '{"by":"slow"}' });
      expect(await claimIdempotencyKey(scope, 'key-slow-12', '{}')).toMatchObject({
        kind: 'replay',
        response: { statusCode: 201, body: '{"by":"retry"}' },
      });
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('never stores a field shown once, and answers a replay of it with a 409 naming what was created', async () => {
    const scope = `test#${randomUUID()}`;
    const shownOnce = { fields: ['key'], idField: 'clientId', what: 'API client' };
    const first = await claimIdempotencyKey(scope, 'key-secret-1', '{}', { shownOnce });
    if (first.kind !== 'run') throw new Error('expected to run');
    await first.complete({ statusCode: 201, body: JSON.stringify({ clientId: 'ak_1', key: 'ak_1.s3cret' }) });

    await expect(claimIdempotencyKey(scope, 'key-secret-1', '{}', { shownOnce })).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/API client ak_1 was created by the earlier request.*key was shown only/),
    });
    // What the record holds, read as a route without secrets would replay it.
    const stored = await claimIdempotencyKey(scope, 'key-secret-1', '{}');
    expect(stored).toMatchObject({ kind: 'replay', response: { statusCode: 201 } });
    expect(JSON.stringify(stored)).not.toContain('s3cret');
  });
});

describe('a member who comes back does not get their old keys back', () => {
  it('a key made before the member was removed and invited back is refused (401) before the departures stream revokes it', async () => {
    const [owner, member] = [await newUser('back-o'), await newUser('back-m')];
    const orgId = await teamOf(owner, [[member, 'admin']]);
    const old = await createApiClient(await authorizeOrg(user(member), orgId), { name: 'old', scopes: ['org:read'] });
    // The key as the authorizer read it, still unrevoked: the stream's revocation has not happened yet.
    const oldCaller = (await authenticateApiKey(old.key))!;
    await expect(authorizeOrg(oldCaller, orgId, 'org:read')).resolves.toMatchObject({ orgId });

    await removeMember(await authorizeOrg(user(owner), orgId), member);
    await acceptInvitation(user(member), (await pendingInvitation(orgId, member, 'admin')).invitationId);

    await expect(authorizeOrg(oldCaller, orgId, 'org:read')).rejects.toMatchObject({
      status: 401,
      message: expect.stringMatching(/made before its member last joined/),
    });
    // A key made since the return is theirs.
    const fresh = await createApiClient(await authorizeOrg(user(member), orgId), { name: 'new', scopes: ['org:read'] });
    await expect(authorizeOrg((await authenticateApiKey(fresh.key))!, orgId, 'org:read')).resolves.toMatchObject({ orgId });
  });

  it('the keys’ list shows such a key with no effective scopes, as it answers 401', async () => {
    const [owner, member] = [await newUser('back-list-o'), await newUser('back-list-m')];
    const orgId = await teamOf(owner, [[member, 'admin']]);
    // A key of the member's earlier membership, as it stands until the departures stream gets to it.
    const clientId = newId('ak');
    const secret = randomBytes(32).toString('base64url');
    await db.apiClient
      .create({
        clientId,
        orgId,
        name: 'from the earlier membership',
        secretHash: sha256(secret),
        keyPreview: `${clientId}.…${secret.slice(-4)}`,
        scopes: ['org:read', 'members:read'],
        isActive: true,
        createdBy: member,
        memberId: member,
        createdAt: '2020-01-01T00:00:00.000Z',
        updatedAt: '2020-01-01T00:00:00.000Z',
      })
      .go();
    const fresh = await createApiClient(await authorizeOrg(user(member), orgId), { name: 'new', scopes: ['org:read'] });

    await expect(authorizeOrg((await authenticateApiKey(`${clientId}.${secret}`))!, orgId, 'org:read')).rejects.toMatchObject({
      status: 401,
    });
    const { items } = await listApiClients(await authorizeOrg(user(owner), orgId), {});
    const byId = new Map(items.map((c) => [c.clientId, c as { effectiveScopes?: string[] }]));
    expect(byId.get(clientId)?.effectiveScopes).toEqual([]);
    expect(byId.get(fresh.clientId)?.effectiveScopes).toEqual(['org:read']);
  });
});
