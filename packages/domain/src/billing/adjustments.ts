import { auditBy, auditItem } from '../identity/audit.ts';
import type { OrgAccess } from '../identity/access.ts';
import { db } from '../identity/entities.ts';
import { put } from '../shared/transactions.ts';
import { applyLedgerWrites, creditWrites, debitWrites } from './ledger.ts';

/**
 * A platform admin's correction of an organization's credits. The ledger key comes from the
 * request's idempotency key, so a retried request applies once (even after the HTTP layer's
 * record of it expired) and the same key for another amount is a 409. The audit event is
 * written in the same transaction: only a correction that applies is audited, once.
 */
export async function adjustCredits(access: OrgAccess, input: { amount: number; reason: string }, requestKey: string) {
  const key = `adjustment:${access.actorId}:${requestKey}`;
  const links = { description: input.reason, actorId: access.actorId };
  const writes =
    input.amount > 0
      ? creditWrites(access.orgId, key, 'adjustment', input.amount, links)
      : debitWrites(access.orgId, key, -input.amount, links, 'adjustment');
  const audit = auditItem({
    ...auditBy(access),
    action: 'credits.adjusted',
    targetType: 'credit-transaction',
    targetId: writes.row.item.transactionId,
    details: { amount: input.amount, reason: input.reason },
  });
  return applyLedgerWrites(writes, [put(db.auditEvent.create(audit))]);
}
