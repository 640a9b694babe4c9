import { auditBy, auditItem } from '../identity/audit.ts';
import type { OrgAccess } from '../identity/access.ts';
import { db } from '../identity/entities.ts';
import { credit, debit } from './ledger.ts';

/**
 * A platform admin's correction of an organization's credits. The ledger key comes from the
 * request's idempotency key, so a retried request applies once; the change is audited.
 */
export async function adjustCredits(access: OrgAccess, input: { amount: number; reason: string }, requestKey: string) {
  const key = `adjustment:${access.actorId}:${requestKey}`;
  const links = { description: input.reason, actorId: access.actorId };
  const row =
    input.amount > 0
      ? await credit(access.orgId, key, 'adjustment', input.amount, links)
      : await debit(access.orgId, key, -input.amount, links, 'adjustment');
  await db.auditEvent
    .put(
      auditItem({
        ...auditBy(access),
        action: 'credits.adjusted',
        targetType: 'credit-transaction',
        targetId: row.transactionId,
        details: { amount: input.amount, reason: input.reason },
      }),
    )
    .go();
  return row;
}
