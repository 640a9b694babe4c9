import { ConflictError } from '../shared/errors.ts';
import { transactWrite, update, type WriteItem } from '../shared/transactions.ts';
import { identityProvider } from './cognito.ts';
import { db } from './entities.ts';
import { revokeAllSessions } from './sessions.ts';
import { personalOrgId, requireUser } from './users.ts';

/** DynamoDB's bound on the items of one transaction. */
const MAX_TRANSACTION_ITEMS = 100;

/** Packs groups of writes (each to stay together) into as few transactions as fit; the first group leads the first. */
function inTransactions(groups: WriteItem[][]): WriteItem[][] {
  const transactions: WriteItem[][] = [];
  for (const group of groups) {
    const last = transactions.at(-1);
    if (last && last.length + group.length <= MAX_TRANSACTION_ITEMS) last.push(...group);
    else transactions.push([...group]);
  }
  return transactions;
}

/**
 * Soft-deletes the account: the profile is marked deleted, the personal organization goes
 * with it, memberships end, every session is revoked and Cognito stops accepting the user.
 * A user who is the last owner of a team must hand it over first.
 */
export async function deleteAccount(userId: string, username: string): Promise<void> {
  const current = await requireUser(userId);
  const { data: memberships } = await db.membership.query.byUser({ userId }).go({ pages: 'all' });
  const owned = memberships.filter((m) => m.role === 'owner' && m.isActive !== false && m.orgId !== personalOrgId(userId));
  const { data: ownedOrgs } = owned.length
    ? await db.organization.get(owned.map((m) => ({ orgId: m.orgId }))).go()
    : { data: [] };
  const liveOwned = ownedOrgs.filter((o) => !o.deletedAt);
  const blocking = liveOwned.filter((o) => (o.ownerCount ?? 1) <= 1);
  if (blocking.length)
    throw new ConflictError(`Transfer ownership of ${blocking.map((o) => o.name).join(', ')} before deleting your account`);
  const now = new Date().toISOString();
  const owners = new Set(liveOwned.map((o) => o.orgId));
  // Each membership ends with its owner count, in one transaction: an owner who leaves no longer
  // counts, and each team they co-own keeps at least one other owner.
  const departures: WriteItem[][] = memberships
    .filter((m) => m.isActive !== false)
    .map((m) => [
      update(db.membership.patch({ orgId: m.orgId, userId }).set({ isActive: false })),
      ...(owners.has(m.orgId)
        ? [
            update(
              db.organization
                .patch({ orgId: m.orgId })
                .add({ ownerCount: -1 })
                .where(({ ownerCount }, { gt }) => gt(ownerCount, 1)),
            ),
          ]
        : []),
    ]);
  const account = [
    update(db.user.patch({ userId }).set({ deletedAt: now, isActive: false })),
    update(db.organization.patch({ orgId: personalOrgId(userId) }).set({ deletedAt: now })),
  ];
  // Past one transaction's items, the memberships end in earlier ones and the account goes last:
  // a refusal on the way leaves the account in place, and a retry ends only what is still live.
  const transactions = inTransactions([account, ...departures]);
  for (const items of [...transactions.slice(1), transactions[0]!]) {
    const result = await transactWrite(items);
    if (result.canceled)
      throw new ConflictError('An organization you own changed meanwhile; transfer ownership first, then retry');
  }
  await revokeAllSessions(userId);
  await identityProvider.disableEverywhere(username || current.email);
}
