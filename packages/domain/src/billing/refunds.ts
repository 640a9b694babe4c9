import { clock } from '../shared/clock.ts';
import { ConflictError } from '../shared/errors.ts';
import { transactGet, update, type WriteItem } from '../shared/transactions.ts';
import { ledgerDb, type CreditAccount, type CreditTransaction } from './entities.ts';
import { CLOSED_DISPUTE_STATUSES } from './enums.ts';
import { debitWrites } from './ledger.ts';
import { commit, eventWrite, purchaseKey, type BillingOutcome, type EventInput } from './payments.ts';
import { paymentDb, type Payment, type ProviderEvent } from './payment-entities.ts';

/**
 * Money a payment gives back after it was paid: refunded at its provider (Stripe's
 * `charge.refunded`, which reports the charge's refunded total so far), or lost in a dispute
 * (`charge.dispute.closed` with status `lost`: the cardholder's bank took it back).
 *
 * The payment records its refunded total (`refundedMinor`): it only grows, so a replayed or late
 * event, which names a total already recorded, changes nothing. It records its dispute as Stripe
 * reports it (`disputeStatus`, `disputedMinor`), in the order of Stripe's events; a closed
 * dispute (won, lost, or an inquiry closed) is final.
 *
 * A credit pack's credits go back with its money, in proportion (half the price refunded, half
 * the credits), as far as the organization's available credits cover them: credits never go
 * below zero, so what was spent already stays spent. The money gone back is the refunded total
 * and a lost dispute's amount, together never more than the payment. The payment shows what was
 * taken back so far (`creditsReclaimed`); a later refund of the same payment takes back what is
 * still due, including what an earlier one could not. A dispute opened takes nothing yet: the
 * bank may decide either way, and Stripe tells when it closes.
 *
 * An event that cannot apply yet is answered 409, writing nothing, so that Stripe delivers it
 * again (it retries for three days): one of a payment not recorded as paid yet (its own events
 * come later when ours were down), for those three days, and one whose credits are held by calls
 * in flight (they may come back), for its first hour only: an organization with steady traffic
 * always has some credits held, by calls that came after the event as much as before, so waiting
 * longer could refuse it until Stripe gives up. Past the wait, it is acknowledged as it stands:
 * `unknown-payment`, `ignored`, or the credits available taken. A plan's payment refunded or disputed changes no credits and no
 * subscription: Stripe's subscription events say whether the subscription goes on.
 *
 * Reads twice (the event and payment, then the account and the purchase's ledger row) and writes
 * once: the payment (on the condition that what it recorded is still what was read), the event,
 * and the ledger row with the account's change. A race (another refund, a debit) is read again.
 */
export interface RefundInput {
  paymentIntentId: string;
  /** The payment's refunded total so far, in minor units, as the provider reports it. */
  refundedMinor: number;
}

export interface DisputeInput {
  paymentIntentId: string;
  disputeId: string;
  /** Stripe's dispute status: `warning_needs_response`, `needs_response`, `under_review`, `won`, `lost`, … */
  status: string;
  /** The amount disputed, in minor units of the payment's currency. */
  amountMinor: number;
  reason?: string;
}

export type RefundOutcome = Extract<BillingOutcome, 'applied' | 'duplicate-event' | 'stale' | 'unknown-payment' | 'ignored'>;

/**
 * How long Stripe delivers an event again after an error answer (three days): an event that cannot
 * apply yet is answered 409 for as long, and acknowledged as it stands after.
 */
const PROVIDER_RETRY_SECONDS = 3 * 86_400;
const providerRetries = (event: EventInput) => clock.epochSeconds() - event.created < PROVIDER_RETRY_SECONDS;
/**
 * How long a return waits for the credits held by calls in flight (an hour): past a gateway call's
 * hold (15 minutes) and the sweep that closes a hold left behind, and well within Stripe's retries.
 */
const HELD_WAIT_SECONDS = 3_600;
const heldMayComeBack = (event: EventInput) => clock.epochSeconds() - event.created < HELD_WAIT_SECONDS;

/** A race costs a re-read: a payment's events come one by one, so a few attempts settle it. */
const ATTEMPTS = 4;

/** The money a payment has given back so far, as recorded: its refunds and a lost dispute, never more than it was. */
const returnedMinor = (p: Pick<Payment, 'amountMinor' | 'refundedMinor' | 'disputeStatus' | 'disputedMinor'>) =>
  Math.min(p.amountMinor, (p.refundedMinor ?? 0) + (p.disputeStatus === 'lost' ? (p.disputedMinor ?? 0) : 0));

/** The credits a return of `returned` of the payment takes back in all: the purchase's share. */
const creditsDue = (purchased: number, payment: Pick<Payment, 'amountMinor'>, returned: number) =>
  payment.amountMinor > 0 ? Math.floor((purchased * returned) / payment.amountMinor) : purchased;

/** What an event changes on a payment recorded as paid: nothing (an outcome), or these fields. */
type Change = { outcome: 'stale' } | { set: Partial<Payment>; what: 'refund' | 'dispute'; cause: string; description: string };

export function recordRefund(event: EventInput, input: RefundInput) {
  return recordOnPayment(event, input.paymentIntentId, (payment) => {
    const refundedMinor = Math.min(input.refundedMinor, payment.amountMinor);
    if (refundedMinor <= (payment.refundedMinor ?? 0)) return { outcome: 'stale' };
    return {
      set: { refundedMinor, refundedAt: clock.nowIso() },
      what: 'refund',
      cause: `refunded:${refundedMinor}`,
      description: `${refundedMinor} of ${payment.amountMinor} ${payment.currency} refunded`,
    };
  });
}

export function recordDispute(event: EventInput, input: DisputeInput) {
  return recordOnPayment(event, input.paymentIntentId, (payment) => {
    const recorded = payment.disputeStatus;
    // Stripe's events of one dispute in the order it sent them (`created` counts seconds: one of the same second still applies).
    if (
      input.status === recorded ||
      (recorded && CLOSED_DISPUTE_STATUSES.includes(recorded)) ||
      event.created < (payment.disputeEventAt ?? 0)
    )
      return { outcome: 'stale' };
    const disputedMinor = Math.min(input.amountMinor, payment.amountMinor);
    return {
      set: {
        disputeId: input.disputeId,
        disputeStatus: input.status,
        disputedMinor,
        disputeEventAt: event.created,
        ...(input.reason ? { disputeReason: input.reason } : {}),
        ...(payment.disputedAt ? {} : { disputedAt: clock.nowIso() }),
      },
      what: 'dispute',
      cause: 'dispute-lost',
      description: `${disputedMinor} of ${payment.amountMinor} ${payment.currency} lost in a dispute`,
    };
  });
}

async function recordOnPayment(
  event: EventInput,
  paymentIntentId: string,
  changeOf: (payment: Payment) => Change,
): Promise<{ outcome: RefundOutcome; orgId?: string; payment?: Payment }> {
  for (let attempt = 1; ; attempt++) {
    const [seen, payment] = await transactGet<[ProviderEvent, Payment]>([
      { op: paymentDb.event.get({ provider: event.provider, eventId: event.eventId }), entity: paymentDb.event },
      { op: paymentDb.payment.get({ paymentIntentId }), entity: paymentDb.payment },
    ]);
    if (seen) return { outcome: 'duplicate-event' };
    const orgId = payment?.orgId;
    const canWait = providerRetries(event);
    // The payment's own events may come later (ours was down, Stripe retries them): refunded now, it would be paid after.
    if ((!payment || payment.status !== 'succeeded') && canWait)
      throw new ConflictError(
        `The payment ${paymentIntentId} is not recorded as paid yet: this event applies once it is (deliver it again)`,
      );
    const change = !payment
      ? { outcome: 'unknown-payment' as const }
      : payment.status !== 'succeeded'
        ? { outcome: 'ignored' as const }
        : changeOf(payment);
    if ('outcome' in change) {
      const failed = await commit([eventWrite(event, orgId, change.outcome)]);
      return { outcome: failed ? 'duplicate-event' : change.outcome, orgId };
    }
    const { writes, next } = await reclaimWrites(payment!, change, heldMayComeBack(event));
    const failed = await commit([
      ...writes.map((write) => ({ role: 'other' as const, write })),
      eventWrite(event, orgId, 'applied'),
    ]);
    if (!failed) return { outcome: 'applied', orgId, payment: next };
    if (failed === 'event') return { outcome: 'duplicate-event' };
    if (attempt >= ATTEMPTS) throw new ConflictError('The payment changed meanwhile and could not be recorded; retry');
  }
}

/**
 * The payment's change, with the credits the money now gone back takes (as far as `available` covers
 * them). Credits held by calls in flight may come back to `available` when the calls end: for the
 * event's first hour, a return they would cover waits for them (409, nothing written).
 */
async function reclaimWrites(
  payment: Payment,
  change: Extract<Change, { set: unknown }>,
  canWait: boolean,
): Promise<{ writes: WriteItem[]; next: Payment }> {
  const now = clock.nowIso();
  const changed: Payment = { ...payment, ...change.set, updatedAt: now };
  const reclaimed = payment.creditsReclaimed ?? 0;
  let take = 0;
  if (payment.purpose === 'credit-pack' && returnedMinor(changed) > returnedMinor(payment)) {
    const [account, purchase] = await transactGet<[CreditAccount, CreditTransaction]>([
      { op: ledgerDb.account.get({ orgId: payment.orgId }), entity: ledgerDb.account },
      {
        op: ledgerDb.transaction.get({ orgId: payment.orgId, key: purchaseKey(payment.paymentIntentId) }),
        entity: ledgerDb.transaction,
      },
    ]);
    // No purchase row: the payment granted nothing (a pack not sold here), so there is nothing to take back.
    const due = purchase ? creditsDue(purchase.amount, payment, returnedMinor(changed)) - reclaimed : 0;
    take = Math.max(0, Math.min(due, account?.available ?? 0));
    if (take < due && (account?.reserved ?? 0) > 0 && canWait)
      throw new ConflictError(
        `${due - take} of the ${due} credits this ${change.what} takes back are held by calls in flight: deliver it again once they end`,
      );
  }
  const next: Payment = { ...changed, creditsReclaimed: reclaimed + take };
  const paymentUpdate = update(
    paymentDb.payment
      .patch({ paymentIntentId: payment.paymentIntentId })
      .set({ ...change.set, creditsReclaimed: next.creditsReclaimed, updatedAt: now })
      // Unchanged since it was read: what the credits taken back were reckoned from.
      .where((attr, { eq, notExists }) =>
        [
          payment.refundedMinor === undefined ? notExists(attr.refundedMinor) : eq(attr.refundedMinor, payment.refundedMinor),
          payment.disputeStatus === undefined ? notExists(attr.disputeStatus) : eq(attr.disputeStatus, payment.disputeStatus),
          payment.creditsReclaimed === undefined
            ? notExists(attr.creditsReclaimed)
            : eq(attr.creditsReclaimed, payment.creditsReclaimed),
        ].join(' AND '),
      ),
  );
  if (!take) return { writes: [paymentUpdate], next };
  const ledger = debitWrites(
    payment.orgId,
    `${purchaseKey(payment.paymentIntentId)}:${change.cause}`,
    take,
    {
      description: `${take} credits of the ${payment.packId} pack taken back: ${change.description}`,
      invoiceId: payment.invoiceId,
      metadata: { paymentIntentId: payment.paymentIntentId, packId: payment.packId, returnedMinor: returnedMinor(changed) },
    },
    'adjustment',
  );
  return { writes: [paymentUpdate, ledger.row.write, ledger.account], next };
}
