import { ConflictError } from '../shared/errors.ts';
import { transactWrite, update } from '../shared/transactions.ts';
import { identityProvider } from './cognito.ts';
import { db } from './entities.ts';
import { revokeAllSessions } from './sessions.ts';
import { personalOrgId, requireUser } from './users.ts';

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
  const ownedTeams = liveOwned.slice(0, 30);
  const result = await transactWrite([
    update(db.user.patch({ userId }).set({ deletedAt: now, isActive: false })),
    update(db.organization.patch({ orgId: personalOrgId(userId) }).set({ deletedAt: now })),
    ...memberships
      .filter((m) => m.isActive !== false)
      .slice(0, 90 - ownedTeams.length)
      .map((m) => update(db.membership.patch({ orgId: m.orgId, userId }).set({ isActive: false }))),
    // An owner who leaves no longer counts: each team they co-own keeps at least one other owner.
    ...ownedTeams.map((o) =>
      update(
        db.organization
          .patch({ orgId: o.orgId })
          .add({ ownerCount: -1 })
          .where(({ ownerCount }, { gt }) => gt(ownerCount, 1)),
      ),
    ),
  ]);
  if (result.canceled) throw new ConflictError('An organization you own changed meanwhile; transfer ownership first, then retry');
  await revokeAllSessions(userId);
  await identityProvider.disableEverywhere(username || current.email);
}
