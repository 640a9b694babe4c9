import { ENTITY_ATTRIBUTE, entityFilter, imageOf, type StreamFilter, type StreamRecord } from '../shared/streams.ts';
import { transactWrite, put, update } from '../shared/transactions.ts';
import { auditItem } from './audit.ts';
import { db, type Membership, type User } from './entities.ts';

/**
 * What follows when a member leaves an organization (removed, left, or their account
 * deleted): the API clients that act for them are revoked, each audited as done by the
 * system (`api-client.revoked`, with the reason). Authorization already refuses such keys
 * at their next call (`authorizeOrg` reads the key's member with the organization); this makes
 * it permanent and visible: the key shows as revoked, fails on every route, and a member who
 * comes back does not find their old keys working again.
 *
 * Derived from the table's stream, so leaving costs no request path a read of the keys.
 */

/** The records this reads: memberships' changes (acted on when removed) and users' soft deletions. */
export const DEPARTURE_STREAM_FILTERS: StreamFilter[] = [
  entityFilter('OldImage', ['membership']),
  { dynamodb: { NewImage: { [ENTITY_ATTRIBUTE]: { S: ['user'] }, deletedAt: { S: [{ exists: true }] } } } },
];

export const SYSTEM_ACTOR = 'system';

export type DepartureReason = 'member-left' | 'account-deleted';

/** Revokes what one stream record calls for; nothing for other records. Safe to run twice. */
export async function revokeKeysOfDeparted(record: StreamRecord): Promise<void> {
  const before = imageOf(record.dynamodb?.OldImage);
  const after = imageOf(record.dynamodb?.NewImage);
  if (before?.[ENTITY_ATTRIBUTE] === 'membership' && !after) {
    const { orgId, userId } = before as unknown as Membership;
    // The record may come late or twice (at-least-once delivery), after the member came back:
    // only the keys of the membership that ended go, not those made since the return.
    const { data: back } = await db.membership.get({ orgId, userId }).go();
    await revokeKeysOfMember(orgId, userId, 'member-left', back?.createdAt);
  } else if (after?.[ENTITY_ATTRIBUTE] === 'user' && after.deletedAt && !before?.deletedAt) {
    const { userId } = after as unknown as User;
    const { data: memberships } = await db.membership.query.byUser({ userId }).go({ pages: 'all' });
    for (const { orgId } of memberships) await revokeKeysOfMember(orgId, userId, 'account-deleted');
  }
}

/**
 * Every live key of the organization that acts for `memberId` (or, made before `memberId` was
 * kept, that they created); with `madeBefore`, only the keys made before that instant.
 */
export async function revokeKeysOfMember(
  orgId: string,
  memberId: string,
  reason: DepartureReason,
  madeBefore?: string,
): Promise<string[]> {
  const { data: keys } = await db.apiClient.query
    .byOrg({ orgId })
    .where(({ memberId: member, createdBy, revokedAt, createdAt }, { eq, notExists, lt }) =>
      [
        `(${eq(member, memberId)} OR ${eq(createdBy, memberId)})`,
        notExists(revokedAt),
        ...(madeBefore ? [lt(createdAt, madeBefore)] : []),
      ].join(' AND '),
    )
    .go({ pages: 'all' });
  const revoked: string[] = [];
  for (const { clientId } of keys) {
    const result = await transactWrite([
      update(
        db.apiClient
          .patch({ clientId })
          .set({ isActive: false, revokedAt: new Date().toISOString(), revokedBy: SYSTEM_ACTOR })
          .where(({ revokedAt }, { notExists }) => notExists(revokedAt)),
      ),
      put(
        db.auditEvent.create(
          auditItem({
            orgId,
            actorType: 'system',
            actorId: SYSTEM_ACTOR,
            action: 'api-client.revoked',
            targetType: 'api-client',
            targetId: clientId,
            details: { reason, memberId },
          }),
        ),
      ),
    ]);
    // Canceled: someone revoked it meanwhile (or an earlier delivery of this record did).
    if (!result.canceled) revoked.push(clientId);
  }
  return revoked;
}
