import * as z from 'zod';
import { ValidationError } from '../../shared/errors.ts';
import { idOf, isUtcInstant } from '../../shared/schemas.ts';
import type { Subscription } from '../entities.ts';
import { canTake } from '../lifecycle.ts';
import { effectsOf, recordBilling, type BillingOutcome, type EventInput, type PaymentInput } from '../payments.ts';
import * as changes from '../subscription-changes.ts';
import { recordDispute, recordRefund } from '../refunds.ts';
import { paymentGateway } from './client.ts';
import { stripeConfig } from './config.ts';
import { verifyStripeSignature } from './signature.ts';

/**
 * Stripe's webhook: a verified event is applied once (its id is recorded in the same
 * transaction as its effects) and safely in any order:
 * - checkout.session.completed: a credit pack is paid (its payment intent), or a plan starts;
 * - invoice.paid / invoice.payment_failed: a plan period paid (or not: the grace period);
 * - payment_intent.succeeded / payment_intent.payment_failed: a credit pack, whichever of
 *   this and the checkout event comes first (the payment intent id records it once);
 * - charge.refunded: a payment refunded (in full or in part) at Stripe; a credit pack's credits
 *   go back with it, as far as the organization still has them (refunds.ts);
 * - charge.dispute.created / updated / closed: a payment disputed by the cardholder's bank; a
 *   dispute lost gives its money back as a refund does, and takes a credit pack's credits alike;
 * - customer.subscription.created / updated / deleted: the card it is charged to (Checkout
 *   names the one it saved on `created`), cancellation set or taken back at Stripe, or the
 *   subscription ended there; `created` changes nothing until a checkout or invoice made the
 *   subscription the organization's. An event older than the last one applied (`created`, in
 *   seconds: one of the same second still applies), or about a subscription that is no
 *   longer the organization's, changes nothing. So do invoices for a period already behind.
 * Any other event type is acknowledged and ignored.
 *
 * An event that changes the subscription (a checkout, an invoice, a subscription event) applies
 * to it as the schedules leave it: their work that is due (the period over, its renewal not run
 * yet) is applied first, as the jobs would (`recordBilling`, `caughtUp`). So whether the hourly
 * job ran before the event or after changes nothing: a cancellation set in Stripe's portal after
 * Stripe renewed is for the month Stripe was just paid for, a failed invoice's grace period counts
 * from the period's start, and a deletion after our cancellation ended the period finds it ended.
 * A stale event stays stale: the catch-up moves no `providerEventAt`, and a period behind the one
 * under way is behind it still.
 *
 * The subscription's payment method (`paymentMethodId`) is the `default_payment_method` Stripe
 * names on a paid invoice or on the subscription itself (set by Checkout, changed when the
 * customer updates their card): whichever of those events applies last. A credit pack's payment
 * intent names the card of that one purchase, not the plan's, so it is not taken from there.
 */
const metadata = z.record(z.string(), z.string().nullable()).nullish();
const orgIdShape = idOf('org');
const id = z.string().min(1).max(255);
/** Stripe's times, in seconds since the epoch: one a date can hold (else a 400, not a RangeError later). */
const epochSeconds = z.number().int().min(0).max(253_402_300_799); // 9999-12-31T23:59:59Z

const eventSchema = z.object({
  id,
  type: z.string().max(100),
  created: epochSeconds,
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

const checkoutSession = z.object({
  id,
  mode: z.enum(['payment', 'subscription', 'setup']),
  payment_status: z.string().nullish(),
  payment_intent: id.nullish(),
  subscription: id.nullish(),
  amount_total: z.number().int().nullish(),
  currency: z.string().nullish(),
  metadata,
});

const invoice = z.object({
  id,
  subscription: id.nullish(),
  payment_intent: id.nullish(),
  default_payment_method: id.nullish(),
  amount_paid: z.number().int().default(0),
  amount_due: z.number().int().default(0),
  currency: z.string(),
  subscription_details: z.object({ metadata }).nullish(),
  lines: z
    .object({
      data: z.array(z.object({ metadata, period: z.object({ start: epochSeconds, end: epochSeconds }).nullish() })),
    })
    .nullish(),
  last_finalization_error: z.object({ message: z.string().nullish() }).nullish(),
});

const paymentIntent = z.object({
  id,
  amount: z.number().int(),
  amount_received: z.number().int().nullish(),
  currency: z.string(),
  payment_method_types: z.array(z.string()).nullish(),
  last_payment_error: z.object({ message: z.string().nullish() }).nullish(),
  metadata,
});

const charge = z.object({
  id,
  payment_intent: id.nullish(),
  /** The charge's refunded total so far: each refund's event names the new total. */
  amount_refunded: z.number().int().min(0),
});

const dispute = z.object({
  id,
  payment_intent: id.nullish(),
  amount: z.number().int().min(0),
  /** Any of Stripe's statuses (it may add some): only the closed ones mean anything more than news. */
  status: z.string().min(1).max(50),
  reason: z.string().max(100).nullish(),
});

const subscription = z.object({
  id,
  status: z.string(),
  cancel_at_period_end: z.boolean().default(false),
  default_payment_method: id.nullish(),
  metadata,
});

const isoOf = (seconds: number) => new Date(seconds * 1000).toISOString();
const meta = (value: z.infer<typeof metadata>, key: string) => value?.[key] ?? undefined;
/**
 * The organization the metadata names, if it is shaped like one of ours: anything else (another
 * system's metadata on a shared Stripe account) is no organization here, and is never used as a key.
 */
const orgOf = (value: z.infer<typeof metadata>) => {
  const orgId = meta(value, 'orgId');
  return orgIdShape.safeParse(orgId).success ? orgId : undefined;
};

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError('The event does not have the shape its type promises');
  return result.data;
}

type Handled = { outcome: BillingOutcome; orgId?: string };

/** Records an event that changes nothing (so its redelivery is recognised too). */
const ignore = (event: EventInput, orgId?: string) => recordBilling({ event, orgId });

async function onCheckoutCompleted(event: EventInput, object: unknown): Promise<Handled> {
  const session = parse(checkoutSession, object);
  const orgId = orgOf(session.metadata);
  const kind = meta(session.metadata, 'kind');
  if (!orgId) return ignore(event);
  if (session.mode === 'payment' && kind === 'credit-pack' && session.payment_intent && session.payment_status === 'paid') {
    const payment: PaymentInput = {
      paymentIntentId: session.payment_intent,
      orgId,
      provider: 'Stripe',
      amountMinor: session.amount_total ?? 0,
      currency: session.currency ?? 'usd',
      status: 'succeeded',
      purpose: 'credit-pack',
      packId: meta(session.metadata, 'packId'),
      checkoutSessionId: session.id,
    };
    return { orgId, ...(await recordBilling({ event, orgId, payment, ...effectsOf(payment) })) };
  }
  const planId = meta(session.metadata, 'planId');
  if (session.mode === 'subscription' && kind === 'plan' && planId && session.subscription) {
    const price = boughtAt(session);
    const anchor = anchoredAt(session);
    const change = (sub: Subscription, ctx: changes.Context) =>
      changes.planPaid(
        sub,
        {
          planId,
          provider: 'Stripe',
          providerSubscriptionId: session.subscription!,
          activationOnly: true,
          ...(price ? { price } : {}),
          ...(anchor ? { billingAnchor: anchor } : {}),
        },
        ctx,
      );
    const cancel = stopsBilling(session.subscription);
    return { orgId, ...(await recordBilling({ event, orgId, change, ofDeletedOrganization: cancel })) };
  }
  return ignore(event, orgId);
}

/**
 * The billing cycle anchor a plan's checkout gave Stripe (`metadata.billingCycleAnchor`), if it
 * names a UTC instant as stored: an impossible date (`02-31`) would move the cycle to another day.
 */
function anchoredAt(session: z.infer<typeof checkoutSession>) {
  const anchor = meta(session.metadata, 'billingCycleAnchor');
  return anchor && isUtcInstant(anchor) ? anchor : undefined;
}

/**
 * The monthly price a plan's checkout sold it at (`metadata.priceMinor`, in the session's
 * currency), if it names one: a session made before it did names none, and the catalogue's
 * price stands in for it.
 */
function boughtAt(session: z.infer<typeof checkoutSession>) {
  const amountMinor = Number(meta(session.metadata, 'priceMinor') ?? NaN);
  if (!Number.isSafeInteger(amountMinor) || amountMinor < 0 || !session.currency) return undefined;
  return { amountMinor, currency: session.currency.toUpperCase() };
}

/**
 * A subscription Stripe bills for an organization deleted since (a checkout paid after the
 * deletion, say) is cancelled there: nobody pays on for an organization that no longer exists.
 * One Stripe no longer has is as good as cancelled.
 */
const stopsBilling = (subscriptionId: string | undefined) =>
  subscriptionId ? () => paymentGateway.cancelSubscription(subscriptionId, { ifExists: true }) : undefined;

function invoicePayment(event: EventInput, object: unknown, status: 'succeeded' | 'failed') {
  const inv = parse(invoice, object);
  const line = inv.lines?.data[0];
  const md = inv.subscription_details?.metadata ?? line?.metadata;
  const orgId = orgOf(md);
  const planId = meta(md, 'planId');
  if (!orgId || !planId || !inv.subscription) return undefined;
  const payment: PaymentInput | undefined = inv.payment_intent
    ? {
        paymentIntentId: inv.payment_intent,
        orgId,
        provider: 'Stripe',
        amountMinor: status === 'succeeded' ? inv.amount_paid : inv.amount_due,
        currency: inv.currency,
        status,
        method: 'card',
        purpose: 'plan',
        planId,
        invoiceId: inv.id,
        providerSubscriptionId: inv.subscription,
        ...(line?.period ? { periodStart: isoOf(line.period.start), periodEnd: isoOf(line.period.end) } : {}),
        ...(status === 'failed' ? { failureMessage: inv.last_finalization_error?.message ?? 'The charge failed' } : {}),
      }
    : undefined;
  const paymentMethodId = inv.default_payment_method ?? undefined;
  return { orgId, planId, subscriptionId: inv.subscription, period: line?.period, payment, paymentMethodId };
}

async function onInvoice(event: EventInput, object: unknown, status: 'succeeded' | 'failed'): Promise<Handled> {
  const found = invoicePayment(event, object, status);
  if (!found) return ignore(event);
  const { orgId, payment, paymentMethodId } = found;
  const ofDeletedOrganization = stopsBilling(found.subscriptionId);
  if (payment)
    return {
      orgId,
      ...(await recordBilling({ event, orgId, payment, ...effectsOf(payment, { paymentMethodId }), ofDeletedOrganization })),
    };
  // Nothing charged (a trial's first invoice): the plan starts, no payment to record.
  if (status === 'failed') return ignore(event, orgId);
  const change = (sub: Subscription, ctx: changes.Context) =>
    changes.planPaid(
      sub,
      {
        planId: found.planId,
        provider: 'Stripe',
        providerSubscriptionId: found.subscriptionId,
        paymentMethodId,
        ...(found.period ? { periodStart: isoOf(found.period.start), periodEnd: isoOf(found.period.end) } : {}),
      },
      ctx,
    );
  return { orgId, ...(await recordBilling({ event, orgId, change, ofDeletedOrganization })) };
}

async function onPaymentIntent(event: EventInput, object: unknown, status: 'succeeded' | 'failed'): Promise<Handled> {
  const intent = parse(paymentIntent, object);
  const orgId = orgOf(intent.metadata);
  // Invoices' payment intents carry no metadata of ours: the invoice events apply those.
  if (!orgId || meta(intent.metadata, 'kind') !== 'credit-pack') return ignore(event, orgId);
  const payment: PaymentInput = {
    paymentIntentId: intent.id,
    orgId,
    provider: 'Stripe',
    amountMinor: status === 'succeeded' ? (intent.amount_received ?? intent.amount) : intent.amount,
    currency: intent.currency,
    status,
    method: intent.payment_method_types?.[0] ?? 'card',
    purpose: 'credit-pack',
    packId: meta(intent.metadata, 'packId'),
    ...(status === 'failed' ? { failureMessage: intent.last_payment_error?.message ?? 'The charge failed' } : {}),
  };
  return { orgId, ...(await recordBilling({ event, orgId, payment, ...effectsOf(payment) })) };
}

async function onChargeRefunded(event: EventInput, object: unknown): Promise<Handled> {
  const refunded = parse(charge, object);
  // A charge of no payment intent was not made by our checkouts or invoices.
  if (!refunded.payment_intent) return ignore(event);
  return recordRefund(event, { paymentIntentId: refunded.payment_intent, refundedMinor: refunded.amount_refunded });
}

async function onDispute(event: EventInput, object: unknown): Promise<Handled> {
  const disputed = parse(dispute, object);
  if (!disputed.payment_intent) return ignore(event);
  return recordDispute(event, {
    paymentIntentId: disputed.payment_intent,
    disputeId: disputed.id,
    status: disputed.status,
    amountMinor: disputed.amount,
    reason: disputed.reason ?? undefined,
  });
}

async function onSubscription(event: EventInput, object: unknown, deleted: boolean): Promise<Handled> {
  const stripeSub = parse(subscription, object);
  const orgId = orgOf(stripeSub.metadata);
  if (!orgId) return ignore(event);
  const change = (sub: Subscription, ctx: changes.Context): changes.Outcome | 'stale' | undefined => {
    if (sub.providerSubscriptionId !== stripeSub.id) return undefined;
    // `created` counts seconds: an event of the same second as the last one applied is not
    // older, and Stripe sends a subscription's events in order, so it is the latest word.
    if (event.created < (sub.providerEventAt ?? 0)) return 'stale';
    // The card Stripe charges for it now, when the subscription names one (else the customer's default applies).
    const seen = {
      ...sub,
      providerEventAt: event.created,
      ...(stripeSub.default_payment_method ? { paymentMethodId: stripeSub.default_payment_method } : {}),
    };
    if (deleted) {
      const ended = changes.providerCancelled(sub, ctx);
      return { ...ended, next: { ...ended.next, providerEventAt: event.created } };
    }
    if (stripeSub.cancel_at_period_end !== !!sub.cancelAtPeriodEnd) {
      const wanted = stripeSub.cancel_at_period_end ? 'cancel.requested' : 'resumed';
      if (canTake(sub.status, wanted)) return changes.cancelSetAtStripe(seen, stripeSub.cancel_at_period_end);
    }
    // Past due names no period: it is about the latest invoice. Once the current period is paid
    // (its `invoice.paid` came first) it is old news; a later period's unpaid invoice comes with
    // its own `invoice.payment_failed`.
    if (stripeSub.status === 'past_due' && canTake(sub.status, 'payment.failed')) {
      const failed = changes.paymentFailed(seen, ctx, sub.currentPeriodEnd);
      return failed === 'stale' ? { next: seen, grants: [] } : failed;
    }
    return { next: seen, grants: [] };
  };
  return { orgId, ...(await recordBilling({ event, orgId, change })) };
}

/** Verifies and applies one webhook delivery. A forged or old signature is a 400 and changes nothing. */
export async function handleStripeWebhook(
  rawBody: string,
  signature: string | undefined,
): Promise<Handled & { eventId: string }> {
  const { webhookSecret } = await stripeConfig();
  verifyStripeSignature(rawBody, signature, webhookSecret);
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new ValidationError('The event is not JSON');
  }
  const parsed = parse(eventSchema, json);
  const event: EventInput = { provider: 'Stripe', eventId: parsed.id, type: parsed.type, created: parsed.created };
  const object = parsed.data.object;
  const handled = await (() => {
    switch (parsed.type) {
      case 'checkout.session.completed':
        return onCheckoutCompleted(event, object);
      case 'invoice.paid':
        return onInvoice(event, object, 'succeeded');
      case 'invoice.payment_failed':
        return onInvoice(event, object, 'failed');
      case 'payment_intent.succeeded':
        return onPaymentIntent(event, object, 'succeeded');
      case 'payment_intent.payment_failed':
        return onPaymentIntent(event, object, 'failed');
      case 'charge.refunded':
        return onChargeRefunded(event, object);
      case 'charge.dispute.created':
      case 'charge.dispute.updated':
      case 'charge.dispute.closed':
        return onDispute(event, object);
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
        return onSubscription(event, object, false);
      case 'customer.subscription.deleted':
        return onSubscription(event, object, true);
      default:
        return ignore(event);
    }
  })();
  return { eventId: parsed.id, ...handled };
}
