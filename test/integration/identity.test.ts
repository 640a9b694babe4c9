import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authorizeOrg, type Caller } from '@platform/domain/identity/access';
import { db } from '@platform/domain/identity/entities';
import { updateMember } from '@platform/domain/identity/members';
import { createOrganization } from '@platform/domain/identity/organizations';
import { personalOrgId, provisionUser } from '@platform/domain/identity/users';
import { decryptSecret, encryptSecret } from '@platform/domain/shared/secrets';
import { billingDb, ledgerDb } from '@platform/domain/billing/entities';
import { getBalance } from '@platform/domain/billing/ledger';
import { claimIdempotencyKey } from '@platform/http/idempotency';

const user = (userId: string): Caller & { kind: 'user' } => ({ kind: 'user', userId, groups: [], isPlatformAdmin: false });
const newUser = async (name = 'member') => {
  const userId = randomUUID();
  await provisionUser({ userId, email: `${name}-${userId.slice(0, 6)}@example.test`, emailVerified: true });
  return userId;
};

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
});
