import { clock } from '../shared/clock.ts';
import { ConflictError } from '../shared/errors.ts';
import { transactGet, update, type WriteItem } from '../shared/transactions.ts';
import { ledgerDb, type CreditAccount, type CreditTransaction } from './entities.ts';
import { debitWrites } from './ledger.ts';
import { commit, eventWrite, purchaseKey, type BillingOutcome, type EventInput } from './payments.ts';
import { paymentDb, type Payment, type ProviderEvent } from './payment-entities.ts';

/**
 * A payment refunded at its provider (Stripe's `charge.refunded`, which reports the charge's
 * refunded total so far). The payment records that total (`refundedMinor`): it only grows, so a
 * replayed or late event, which names a total already recorded, changes nothing.
 *
 * A credit pack's credits go back with its money, in proportion (half the price refunded, half
 * the credits), as far as the organization's available credits cover them: credits never go
 * below zero, so what was spent already stays spent. The payment shows what was taken back so
 * far (`creditsReclaimed`); a later refund of the same payment takes back what is still due,
 * including what an earlier one could not.
 *
 * A refund that cannot apply yet is answered 409, writing nothing, so that Stripe delivers it
 * again (it retries for three days): one of a payment not recorded as paid yet (its own events
 * come later when ours were down), and one whose credits are held by calls in flight (they may
 * come back). Past Stripe's retries, it is acknowledged as it stands: `unknown-payment`, `ignored`,
 * or the credits available taken. A plan's payment refunded changes no credits and no
 * subscription: Stripe's subscription events say whether the subscription goes on.
 *
 * Reads twice (the event and payment, then the account and the purchase's ledger row) and writes
 * once: the payment (on the condition that its refunded total is still the one read), the event,
 * and the ledger row with the account's change. A race (another refund, a debit) is read again.
 */
export interface RefundInput {
  paymentIntentId: string;
  /** The payment's refunded total so far, in minor units, as the provider reports it. */
  refundedMinor: number;
}

export type RefundOutcome = Extract<BillingOutcome, 'applied' | 'duplicate-event' | 'stale' | 'unknown-payment' | 'ignored'>;

/**
 * How long Stripe delivers an event again after an error answer (three days): an event that cannot
 * apply yet is answered 409 for as long, and acknowledged as it stands after.
 */
const PROVIDER_RETRY_SECONDS = 3 * 86_400;
const providerRetries = (event: EventInput) => clock.epochSeconds() - event.created < PROVIDER_RETRY_SECONDS;

/** A race costs a re-read: refunds of one payment come one by one, so a few attempts settle it. */
const ATTEMPTS = 4;

/** The credits a refund of `refundedMinor` of the payment takes back in all: the purchase's share. */
const creditsDue = (purchased: number, payment: Pick<Payment, 'amountMinor'>, refundedMinor: number) =>
  payment.amountMinor > 0
    ? Math.floor((purchased * Math.min(refundedMinor, payment.amountMinor)) / payment.amountMinor)
    : purchased;

export async function recordRefund(
  event: EventInput,
  input: RefundInput,
): Promise<{ outcome: RefundOutcome; orgId?: string; payment?: Payment }> {
  for (let attempt = 1; ; attempt++) {
    const [seen, payment] = await transactGet<[ProviderEvent, Payment]>([
      { op: paymentDb.event.get({ provider: event.provider, eventId: event.eventId }), entity: paymentDb.event },
      { op: paymentDb.payment.get({ paymentIntentId: input.paymentIntentId }), entity: paymentDb.payment },
    ]);
    if (seen) return { outcome: 'duplicate-event' };
    const orgId = payment?.orgId;
    const canWait = providerRetries(event);
    // The payment's own events may come later (ours was down, Stripe retries them): refunded now, it would be paid after.
    if ((!payment || payment.status !== 'succeeded') && canWait)
      throw new ConflictError(
        `The payment ${input.paymentIntentId} is not recorded as paid yet: this refund applies once it is (deliver it again)`,
      );
    const outcome: RefundOutcome | undefined = !payment
      ? 'unknown-payment'
      : payment.status !== 'succeeded'
        ? 'ignored'
        : Math.min(input.refundedMinor, payment.amountMinor) <= (payment.refundedMinor ?? 0)
          ? 'stale'
          : undefined;
    if (outcome) {
      const failed = await commit([eventWrite(event, orgId, outcome)]);
      return { outcome: failed ? 'duplicate-event' : outcome, orgId };
    }
    const { writes, next } = await refundWrites(payment!, input.refundedMinor, canWait);
    const failed = await commit([
      ...writes.map((write) => ({ role: 'other' as const, write })),
      eventWrite(event, orgId, 'applied'),
    ]);
    if (!failed) return { outcome: 'applied', orgId, payment: next };
    if (failed === 'event') return { outcome: 'duplicate-event' };
    if (attempt >= ATTEMPTS) throw new ConflictError('The refund could not be recorded; retry');
  }
}

/**
 * The payment's new refunded total, with the credits it takes back (as far as `available` covers
 * them). Credits held by calls in flight may come back to `available` when the calls end: while the
 * provider still retries, a refund they would cover waits for them (409, nothing written).
 */
async function refundWrites(
  payment: Payment,
  reportedMinor: number,
  canWait: boolean,
): Promise<{ writes: WriteItem[]; next: Payment }> {
  const refundedMinor = Math.min(reportedMinor, payment.amountMinor);
  const reclaimed = payment.creditsReclaimed ?? 0;
  let take = 0;
  if (payment.purpose === 'credit-pack') {
    const [account, purchase] = await transactGet<[CreditAccount, CreditTransaction]>([
      { op: ledgerDb.account.get({ orgId: payment.orgId }), entity: ledgerDb.account },
      {
        op: ledgerDb.transaction.get({ orgId: payment.orgId, key: purchaseKey(payment.paymentIntentId) }),
        entity: ledgerDb.transaction,
      },
    ]);
    // No purchase row: the payment granted nothing (a pack not sold here), so there is nothing to take back.
    const due = purchase ? creditsDue(purchase.amount, payment, refundedMinor) - reclaimed : 0;
    take = Math.max(0, Math.min(due, account?.available ?? 0));
    if (take < due && (account?.reserved ?? 0) > 0 && canWait)
      throw new ConflictError(
        `${due - take} of the ${due} credits this refund takes back are held by calls in flight: deliver it again once they end`,
      );
  }
  const now = clock.nowIso();
  const next: Payment = { ...payment, refundedMinor, creditsReclaimed: reclaimed + take, refundedAt: now, updatedAt: now };
  const paymentUpdate = update(
    paymentDb.payment
      .patch({ paymentIntentId: payment.paymentIntentId })
      .set({ refundedMinor, creditsReclaimed: next.creditsReclaimed, refundedAt: now, updatedAt: now })
      .where(({ refundedMinor: recorded }, { eq, notExists }) =>
        payment.refundedMinor === undefined ? notExists(recorded) : eq(recorded, payment.refundedMinor),
      ),
  );
  if (!take) return { writes: [paymentUpdate], next };
  const ledger = debitWrites(
    payment.orgId,
    `${purchaseKey(payment.paymentIntentId)}:refunded:${refundedMinor}`,
    take,
    {
      description: `${take} credits of the ${payment.packId} pack taken back: ${refundedMinor} of ${payment.amountMinor} ${payment.currency} refunded`,
      invoiceId: payment.invoiceId,
      metadata: { paymentIntentId: payment.paymentIntentId, packId: payment.packId, refundedMinor },
    },
    'adjustment',
  );
  return { writes: [paymentUpdate, ledger.row.write, ledger.account], next };
}
