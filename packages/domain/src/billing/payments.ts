import { auditBy, auditItem } from '../identity/audit.ts';
import type { OrgAccess } from '../identity/access.ts';
import { db, type Organization } from '../identity/entities.ts';
import { clock } from '../shared/clock.ts';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { put, transactGet, transactWrite, update } from '../shared/transactions.ts';
import { pageOf } from '../shared/pages.ts';
import { billingDb, type Subscription } from './entities.ts';
import { creditPack, findCreditPack } from './credit-packs.ts';
import { canTake } from './lifecycle.ts';
import { paymentDb, type Payment, type ProviderEvent } from './payment-entities.ts';
import { planCatalogue, planIn } from './plans.ts';
import * as changes from './subscription-changes.ts';
import { commitChange, grantWrites, subscriptionRead, type Grant, type Tagged } from './subscription-store.ts';
import { billedByStripe, cancelAtStripe, caughtUp, type StripeCancellation } from './subscriptions.ts';

/**
 * Payments, recorded exactly once and applied with what they pay for, whichever way they
 * arrive: a Stripe webhook (checkout, invoice, payment intent) or a platform admin recording
 * a PayPal or Odoo payment. One transaction holds the payment (keyed by its payment intent
 * id), the provider event (keyed by its id), the credits and the subscription change; so a
 * replayed event, a second event about the same payment, or two racing deliveries apply it
 * once. Notifications (payment received or failed) follow from the payment's record through
 * the table's stream (see notifications.ts).
 */
export type Provider = Payment['provider'];

export interface PaymentInput {
  paymentIntentId: string;
  orgId: string;
  provider: Provider;
  amountMinor: number;
  currency: string;
  status: Payment['status'];
  method?: string;
  purpose: Payment['purpose'];
  planId?: string;
  packId?: string;
  periodStart?: string;
  periodEnd?: string;
  invoiceId?: string;
  checkoutSessionId?: string;
  providerSubscriptionId?: string;
  odooSaleOrderId?: string;
  failureMessage?: string;
  recordedBy?: string;
}

export interface EventInput {
  provider: Provider;
  eventId: string;
  type: string;
  /** The provider's `created`, epoch seconds. */
  created: number;
}

export type BillingOutcome =
  | 'applied'
  | 'duplicate-event'
  | 'payment-already-recorded'
  | 'payment-of-another-organization'
  | 'stale'
  | 'no-subscription'
  | 'unknown-organization'
  | 'unknown-credit-pack'
  | 'unknown-payment'
  | 'ignored';

export interface BillingRecord {
  orgId?: string;
  event?: EventInput;
  payment?: PaymentInput;
  /** The subscription change, decided on the subscription as read; undefined: none. */
  change?: (sub: Subscription, ctx: changes.Context) => changes.Outcome | 'stale' | undefined;
  /** Credits bought (a credit pack). */
  credits?: Grant;
  /**
   * Why the payment, recorded all the same, has no effect: a signed pack payment naming a pack
   * we do not sell (none of our checkouts makes one) grants nothing, and is left to the operators.
   */
  unapplicable?: 'unknown-credit-pack';
  /** More writes of the same transaction (an audit row, a uniqueness guard). */
  writes?: Tagged[];
  /** The answer when a `guard` write fails (a value used by another organization). */
  guardConflict?: ConflictError;
  /**
   * For an event about an organization deleted since (not one that never was ours: another
   * environment may share the Stripe account), run before the event is recorded: a subscription
   * it started is cancelled. A failure records nothing, so the provider's redelivery tries again.
   */
  ofDeletedOrganization?: () => Promise<void>;
  /**
   * What was read already, in a consistent read (with the authorization, for a payment recorded by
   * hand: no event), used instead of the first read. A retry reads again.
   */
  read?: { payment: Payment | null; subscription: Subscription | null; org: Organization };
  /**
   * Run once the subscription change is decided, before anything is written: a subscription a
   * payment made elsewhere takes over from Stripe is cancelled there first (`cancelAtStripe`).
   * The change then commits under its claim; refused, the subscription ends as Stripe's did, and
   * the next attempt applies the payment to that.
   */
  beforeChange?: (sub: Subscription, ctx: changes.Context) => Promise<StripeCancellation | undefined>;
}

const EVENT_RETENTION_DAYS = 30;
const ATTEMPTS = 3;

export function eventWrite(event: EventInput, orgId: string | undefined, outcome: BillingOutcome): Tagged {
  const now = clock.now();
  const item: ProviderEvent = {
    ...event,
    orgId,
    outcome,
    receivedAt: now.toISOString(),
    ttl: Math.floor(now.getTime() / 1000) + EVENT_RETENTION_DAYS * 86_400,
  };
  return { role: 'event', write: put(paymentDb.event.create(item)) };
}

function paymentWrite(existing: Payment | null, input: PaymentInput): { item: Payment; tagged: Tagged } {
  const now = clock.nowIso();
  if (existing) {
    // Only failed → succeeded: a later success of the same intent (a retried charge).
    const changed = { status: input.status, updatedAt: now, failureMessage: undefined, amountMinor: input.amountMinor };
    return {
      item: { ...existing, ...changed },
      tagged: {
        role: 'payment',
        write: update(
          paymentDb.payment
            .patch({ paymentIntentId: existing.paymentIntentId })
            .set({ status: input.status, updatedAt: now, amountMinor: input.amountMinor })
            .remove(['failureMessage'])
            .where(({ status }, { eq }) => eq(status, 'failed')),
        ),
      },
    };
  }
  const item: Payment = {
    ...input,
    currency: input.currency.toUpperCase(),
    paymentId: newId('pay'),
    createdAt: now,
    updatedAt: now,
  };
  return { item, tagged: { role: 'payment', write: put(paymentDb.payment.create(item)) } };
}

/** Commits tagged writes; answers the role of a failed condition, if one failed. */
export async function commit(tagged: Tagged[]): Promise<Tagged['role'] | undefined> {
  if (!tagged.length) return undefined;
  const outcome = await transactWrite(tagged.map((t) => t.write));
  if (!outcome.canceled) return undefined;
  const index = outcome.reasons.findIndex((r) => r === 'ConditionalCheckFailed');
  return tagged[index]?.role ?? 'other';
}

const sameTerms = (payment: Payment, input: PaymentInput) =>
  payment.amountMinor === input.amountMinor &&
  payment.currency === input.currency.toUpperCase() &&
  payment.packId === input.packId &&
  payment.planId === input.planId;

/**
 * Records a payment and applies its effects, or records that an event changed nothing. Reads
 * once (event, payment, subscription and organization together) and writes once; a race with
 * another delivery or change is re-read and retried. A subscription change is decided on the
 * subscription with the schedules' due work applied first (`caughtUp`), a step and a commit per
 * piece of work, only when some is due. An event about an organization that does
 * not exist (a signed event whose metadata names no organization of ours, or one since deleted)
 * credits and changes nothing: only the event is recorded, as `unknown-organization`, so a
 * redelivery is a no-op.
 */
export async function recordBilling(record: BillingRecord): Promise<{ outcome: BillingOutcome; payment?: Payment }> {
  const plans = record.change ? await planCatalogue() : undefined;
  for (let attempt = 1; ; attempt++) {
    const { event, payment: input, orgId } = record;
    const [seen, existing, sub, org] =
      attempt === 1 && record.read && !event
        ? [null, record.read.payment, record.read.subscription, record.read.org]
        : await transactGet<[ProviderEvent, Payment, Subscription, Organization]>([
            {
              op: paymentDb.event.get({ provider: event?.provider ?? 'Stripe', eventId: event?.eventId ?? '-' }),
              entity: paymentDb.event,
            },
            { op: paymentDb.payment.get({ paymentIntentId: input?.paymentIntentId ?? '-' }), entity: paymentDb.payment },
            { op: billingDb.subscription.get({ orgId: orgId ?? '-' }), entity: billingDb.subscription },
            { op: db.organization.get({ orgId: orgId ?? '-' }), entity: db.organization },
          ]);
    if (event && seen) return { outcome: 'duplicate-event' };
    // A deleted organization is gone for billing as much as one that never existed.
    if (orgId && (!org || org.deletedAt)) {
      if (org?.deletedAt && event) await record.ofDeletedOrganization?.();
      const failed = event ? await commit([eventWrite(event, orgId, 'unknown-organization')]) : undefined;
      return { outcome: failed ? 'duplicate-event' : 'unknown-organization' };
    }
    if (input && existing && existing.orgId !== input.orgId) {
      // A manual payment answers the admin with a conflict; a provider's event is acknowledged,
      // as the unknown organization's is, since its provider would redeliver an error for days.
      if (!event) throw new ConflictError('This payment is already recorded for another organization');
      const failed = await commit([eventWrite(event, orgId, 'payment-of-another-organization')]);
      return { outcome: failed ? 'duplicate-event' : 'payment-of-another-organization' };
    }
    // An admin's reference again is the same payment, retried; with other terms it is a mistake to show, not to answer as done.
    if (!event && input && existing && !sameTerms(existing, input))
      throw new ConflictError(
        `This reference is recorded as a payment of ${existing.amountMinor} ${existing.currency} for ${existing.packId ?? existing.planId}`,
        [{ path: 'body.reference', message: 'Already recorded with another amount, currency, pack or plan' }],
      );
    const recorded = input && existing && (existing.status === 'succeeded' || existing.status === input.status);
    if (recorded) {
      if (event) await commit([eventWrite(event, orgId, 'payment-already-recorded')]);
      return { outcome: 'payment-already-recorded', payment: existing };
    }
    const payment = input ? paymentWrite(existing, input) : undefined;
    const succeeded = !input || input.status === 'succeeded';
    // The change applies to the subscription as the schedules leave it: their work that is due (the
    // period over, its renewal not run yet) is applied first, as the jobs would, each step under
    // its version (`caughtUp`). So an event or a payment by hand that arrives then is for the
    // period under way, whatever the hour the jobs run: a cancellation set at Stripe after Stripe
    // renewed was dated at the end of the period over, and the next job ended at once the month
    // Stripe was just paid for. Nothing due, the common case: nothing more read or written.
    const current = record.change && sub ? await caughtUp(sub, plans!) : sub;
    const outcome = record.change && current ? record.change(current, { plans: plans!, now: clock.now() }) : undefined;
    const result: BillingOutcome = record.unapplicable
      ? record.unapplicable
      : outcome === 'stale'
        ? 'stale'
        : record.change && !sub
          ? 'no-subscription'
          : !outcome && !payment && !record.credits
            ? 'ignored'
            : 'applied';
    const writes: Tagged[] = [
      ...(payment ? [payment.tagged] : []),
      ...(event ? [eventWrite(event, orgId, result)] : []),
      ...(record.writes ?? []),
    ];
    const credits = record.credits && succeeded ? [record.credits] : [];
    let failed: Tagged['role'] | undefined;
    if (outcome && outcome !== 'stale') {
      const stopped = await record.beforeChange?.(current!, { plans: plans!, now: clock.now() });
      const committed = await commitChange({
        prev: stopped?.claimed ?? current!,
        claimed: !!stopped,
        next: outcome.next,
        grants: [...outcome.grants, ...credits],
        writes,
      });
      if (!committed.ok) await stopped?.abandon();
      failed = committed.ok ? undefined : committed.failed;
    } else {
      failed = await commit([...writes, ...grantWrites(orgId!, credits).map((write) => ({ role: 'other' as const, write }))]);
    }
    if (!failed) return { outcome: result, payment: payment?.item };
    if (failed === 'event') return { outcome: 'duplicate-event' };
    if (failed === 'guard') throw record.guardConflict ?? new ConflictError('This value is already used elsewhere');
    if (failed === 'other' || attempt >= ATTEMPTS) throw new ConflictError('The payment could not be recorded; retry');
  }
}

/** The ledger key of the credits a pack's payment bought. */
export const purchaseKey = (paymentIntentId: string) => `payment:${paymentIntentId}`;

/** The effects of a payment for a plan or a credit pack, for `recordBilling`. */
export function effectsOf(
  input: PaymentInput,
  plan?: Omit<changes.PlanPayment, 'planId' | 'provider'>,
): Pick<BillingRecord, 'change' | 'credits' | 'unapplicable'> {
  if (input.purpose === 'credit-pack') {
    const pack = findCreditPack(input.packId);
    if (!pack) return { unapplicable: 'unknown-credit-pack' };
    return {
      credits: {
        key: purchaseKey(input.paymentIntentId),
        type: 'purchase',
        amount: pack.credits,
        description: `${pack.name} bought`,
        invoiceId: input.invoiceId,
        metadata: { paymentIntentId: input.paymentIntentId, packId: pack.packId },
      },
    };
  }
  return {
    change: (sub, ctx) =>
      input.status === 'succeeded'
        ? changes.planPaid(
            sub,
            {
              planId: input.planId!,
              provider: input.provider,
              providerSubscriptionId: input.providerSubscriptionId,
              odooSaleOrderId: input.odooSaleOrderId,
              periodStart: input.periodStart,
              periodEnd: input.periodEnd,
              ...plan,
            },
            ctx,
          )
        : matchesSubscription(sub, input) && canTake(sub.status, 'payment.failed')
          ? changes.paymentFailed(sub, ctx, input.periodEnd)
          : undefined,
  };
}

/** A failure only concerns the subscription it was for (not an old, replaced one). */
const matchesSubscription = (sub: Subscription, input: PaymentInput) =>
  !input.providerSubscriptionId || input.providerSubscriptionId === sub.providerSubscriptionId;

export interface ManualPaymentInput {
  provider: 'PayPal' | 'OdooManual';
  /** The provider's id of the payment (PayPal capture id, Odoo invoice number): unique per provider. */
  reference: string;
  amountMinor: number;
  currency: string;
  method?: string;
  odooSaleOrderId?: string;
  /** A plan's payment only: the provider's reference of the payment method it charges (a PayPal billing agreement, say). */
  paymentMethodId?: string;
  planId?: string;
  packId?: string;
}

/** The id a payment by hand is recorded under: its provider's reference, unique per provider. */
const manualPaymentIntentId = (input: Pick<ManualPaymentInput, 'provider' | 'reference'>) =>
  `${input.provider === 'PayPal' ? 'paypal' : 'odoo'}:${input.reference}`;

/**
 * What a payment by hand reads with the authorization (`httpHandler`'s `preload`), in its one
 * request: the payment by its reference, the subscription, and the owner of the Odoo sale order
 * it names. So it is recorded with one more request, or, taking over from Stripe, two: the
 * claim and the commit.
 */
export const manualPaymentReads = (
  orgId: string,
  input: Pick<ManualPaymentInput, 'provider' | 'reference' | 'odooSaleOrderId'>,
) => [
  { op: paymentDb.payment.get({ paymentIntentId: manualPaymentIntentId(input) }), entity: paymentDb.payment },
  subscriptionRead(orgId),
  ...(input.odooSaleOrderId
    ? [{ op: db.unique.get({ kind: 'odoo-sale-order', value: input.odooSaleOrderId }), entity: db.unique }]
    : []),
];

/**
 * A platform admin records a payment made outside Stripe. It has the effects of a webhook
 * payment (plan period or credit pack) and is audited. An Odoo sale order belongs to one
 * organization: using another's is a 409 (a uniqueness item, in the same transaction).
 *
 * A plan paid by hand takes over from the Stripe subscription billing it, if any: that is
 * cancelled at Stripe first (`cancelAtStripe`, as when the organization is deleted), or Stripe
 * would charge the card on, for a subscription that no longer names it (the owner's cancellation
 * could not reach it either). Stripe failing is a 502 and nothing is recorded. The period Stripe
 * was paid for is not refunded: the payment pays the month after it.
 */
export async function recordManualPayment(access: OrgAccess, input: ManualPaymentInput) {
  if (input.provider === 'OdooManual' && !input.odooSaleOrderId)
    throw new ValidationError('An Odoo payment names its sale order', [
      { path: 'body.odooSaleOrderId', message: 'Required for OdooManual' },
    ]);
  const plans = input.planId ? await planCatalogue() : undefined;
  if (input.planId) planIn(plans!, input.planId);
  if (input.packId) creditPack(input.packId);
  const payment: PaymentInput = {
    paymentIntentId: manualPaymentIntentId(input),
    orgId: access.orgId,
    provider: input.provider,
    amountMinor: input.amountMinor,
    currency: input.currency,
    status: 'succeeded',
    method: input.method ?? (input.provider === 'PayPal' ? 'paypal' : 'bank_transfer'),
    purpose: input.planId ? 'plan' : 'credit-pack',
    planId: input.planId,
    packId: input.packId,
    odooSaleOrderId: input.odooSaleOrderId,
    recordedBy: access.actorId,
  };
  const writes: Tagged[] = [
    {
      role: 'other',
      write: put(
        db.auditEvent.create(
          auditItem({
            ...auditBy(access),
            action: 'payment.recorded',
            targetType: 'payment',
            targetId: payment.paymentIntentId,
            details: { ...input },
          }),
        ),
      ),
    },
  ];
  if (input.odooSaleOrderId)
    writes.push({
      role: 'guard',
      write: put(
        db.unique
          .put({ kind: 'odoo-sale-order', value: input.odooSaleOrderId, ownerId: access.orgId })
          .where(({ ownerId }, { notExists, eq }) => `${notExists(ownerId)} OR ${eq(ownerId, access.orgId)}`),
      ),
    });
  const guardConflict = new ConflictError('This Odoo sale order belongs to another organization', [
    { path: 'body.odooSaleOrderId', message: 'Already used by another organization' },
  ]);
  // Read with the authorization by the route; read here (the same one request) when called without it.
  const [existing, read, saleOrder] = (access.preloaded ??
    (await transactGet(manualPaymentReads(access.orgId, input) as Parameters<typeof transactGet>[0]))) as [
    Payment | null | undefined,
    Subscription | null | undefined,
    { ownerId: string } | null | undefined,
  ];
  // Refused before anything is done at Stripe; the guard in the transaction still decides a race.
  if (saleOrder && saleOrder.ownerId !== access.orgId) throw guardConflict;
  // A plan paid after its period ended, before the renewal ran, pays the subscription as the
  // schedules leave it (`recordBilling` catches it up): the month under way, not the one over
  // (which the renewal would then find unpaid, and its grace period suspend an organization that just paid).
  const { payment: recorded, outcome } = await recordBilling({
    orgId: access.orgId,
    payment,
    ...effectsOf(payment, { paymentMethodId: input.paymentMethodId }),
    writes,
    guardConflict,
    ...(read !== undefined ? { read: { payment: existing ?? null, subscription: read, org: access.org } } : {}),
    beforeChange: async (sub, ctx) => (input.planId && billedByStripe(sub) ? cancelAtStripe(sub, ctx.plans) : undefined),
  });
  // authorizeOrg read the organization; it can only be missing if it vanished since.
  if (outcome === 'unknown-organization') throw new NotFoundError('Organization not found');
  return { payment: recorded!, created: outcome !== 'payment-already-recorded' };
}

export async function listPayments(orgId: string, options: { cursor?: string; limit?: number }) {
  const { data, cursor } = await pageOf(paymentDb.payment.query.byOrg({ orgId }), {
    cursor: options.cursor,
    limit: options.limit ?? 50,
    order: 'desc',
  });
  return { items: data, nextCursor: cursor };
}
