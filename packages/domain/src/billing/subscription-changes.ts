import { UnprocessableError } from '../shared/errors.ts';
import type { DueKind, Plan, Subscription } from './entities.ts';
import { effectivePlanId, nextStatus } from './lifecycle.ts';
import { FREE_PLAN_ID, planIn, pricePaid } from './plans.ts';
import { periodGrantKey } from './ledger.ts';
import { proratedCredits, prorationKey } from './proration.ts';
import {
  GRACE_DAYS,
  addMonths,
  dueDates,
  lowBalanceMark,
  periodEndAfter,
  periodGrant,
  plusDays,
  wholeSecond,
  type Grant,
} from './subscription-store.ts';

/**
 * Every change a subscription can undergo, as pure functions of (subscription, catalogue,
 * now) → the next subscription and the credits the change grants. The status always comes
 * from the transition table (`nextStatus`); the routes, the webhooks and the schedules only
 * pick the change and commit it (subscription-store.ts).
 */
export interface Context {
  plans: Map<string, Plan>;
  now: Date;
}

export interface Outcome {
  next: Subscription;
  grants: Grant[];
}

const iso = (ctx: Context) => ctx.now.toISOString();
/** The length of the month that starts at `start`: what a plan's monthly credits are for. */
const monthMsFrom = (start: string) => Date.parse(addMonths(start, 1)) - Date.parse(start);
const same = (sub: Subscription): Outcome => ({ next: sub, grants: [] });

/**
 * The plan whose monthly credits the organization already has this period: the plan in use, or
 * a richer one whose period grant or proration was granted earlier in the period (a plan paid
 * again after a suspension, or bought again after Stripe ended it). A plan's credits come once
 * per period, whatever the organization went through meanwhile. How many credits that was is
 * `creditedMonthly`'s to say: the catalogue may have changed the plan since.
 */
function creditedPlan(prev: Subscription, ctx: Context): Plan {
  const inUse = planIn(ctx.plans, effectivePlanId(prev));
  const granted = new Set(prev.periodGrants ?? []);
  const start = prev.currentPeriodStart;
  return [...ctx.plans.values()]
    .filter(
      (p) => granted.has(periodGrantKey(prev.orgId, p.planId, start)) || granted.has(prorationKey(prev.orgId, start, p.planId)),
    )
    .reduce((richest, p) => (p.monthlyCredits > richest.monthlyCredits ? p : richest), inUse);
}

/**
 * The monthly credits the period is credited at so far: as they were granted (a platform admin
 * lowering the plan's credits since would make an upgrade grant more than the new plan's month,
 * raising them, less). A subscription last written before it kept them: its credited plan's, as
 * the catalogue has them now.
 */
const creditedMonthly = (prev: Subscription, ctx: Context) => prev.periodMonthlyCredits ?? creditedPlan(prev, ctx).monthlyCredits;

/** The prorated difference when the plan in use moves up mid-period (nothing when it moves down). */
function proration(prev: Subscription, next: Subscription, ctx: Context): Grant[] {
  const from = creditedPlan(prev, ctx);
  const fromMonthly = creditedMonthly(prev, ctx);
  const to = planIn(ctx.plans, effectivePlanId(next));
  const start = next.currentPeriodStart;
  const amount = proratedCredits(
    fromMonthly,
    to.monthlyCredits,
    { start, end: next.currentPeriodEnd },
    ctx.now,
    monthMsFrom(start),
  );
  if (amount <= 0) return [];
  return [
    {
      key: prorationKey(next.orgId, next.currentPeriodStart, to.planId),
      type: 'grant',
      amount,
      description: `${to.name} plan from ${from.name}: prorated monthly credits`,
      metadata: {
        fromPlanId: from.planId,
        toPlanId: to.planId,
        fromMonthlyCredits: fromMonthly,
        toMonthlyCredits: to.monthlyCredits,
        periodEnd: next.currentPeriodEnd,
      },
      monthly: to.monthlyCredits,
    },
  ];
}

/**
 * When the plan in use changes within a period (an upgrade, a payment, a suspension), the
 * low-balance warning follows the new plan's monthly credits from now on (a period's grant
 * sets it otherwise): the change's grants carry the mark, or a grant of nothing does.
 */
function withThreshold(prev: Subscription, next: Subscription, ctx: Context, grants: Grant[] = []): Grant[] {
  const planId = effectivePlanId(next);
  if (planId === effectivePlanId(prev)) return grants;
  const plan = planIn(ctx.plans, planId);
  const mark = lowBalanceMark(plan, next.currentPeriodStart);
  if (grants.length) return grants.map((g) => ({ ...g, mark }));
  return [
    {
      key: `low-balance:${next.orgId}:${next.currentPeriodStart}:${planId}`,
      type: 'grant',
      amount: 0,
      description: `${plan.name} plan: low-balance warning`,
      mark,
    },
  ];
}

/** How many Stripe subscriptions cancelled for a change here a subscription remembers (newest first). */
const ENDED_KEPT = 10;

/**
 * A change that takes the subscription off the Stripe subscription billing it, which was
 * cancelled at Stripe for it (`cancelAtStripe`: a contract, a plan paid by hand, or the end
 * Stripe's cancellation leaves), remembers that subscription's id: its events may still arrive
 * (an invoice paid just before the cancellation, delivered after), and are `stale` then, where
 * one of a subscription not on file at all may be a new one's, ahead of its checkout.
 */
export function endedAtStripe(prev: Subscription, next: Subscription): Subscription {
  const id = prev.paymentProvider === 'Stripe' ? prev.providerSubscriptionId : undefined;
  if (!id || next.providerSubscriptionId === id) return next;
  const kept = (prev.endedProviderSubscriptionIds ?? []).filter((ended) => ended !== id);
  return { ...next, endedProviderSubscriptionIds: [id, ...kept].slice(0, ENDED_KEPT) };
}

/** Whether the organization ever had a trial (it gets one, once). */
export const trialUsed = (sub: Subscription) => sub.trialStart !== undefined;

/** A paid plan's trial starts now and is the period: its credits are the plan's monthly grant for that length. */
export function startTrial(sub: Subscription, plan: Plan, ctx: Context): Outcome {
  if (trialUsed(sub)) throw new UnprocessableError('This organization has had its trial; subscribe through checkout');
  const start = wholeSecond(iso(ctx));
  const trialEnd = plusDays(start, plan.trialDays);
  const next: Subscription = {
    ...sub,
    planId: plan.planId,
    status: nextStatus(sub.status, 'trial.started'),
    trialStart: start,
    trialEnd,
    currentPeriodStart: start,
    currentPeriodEnd: trialEnd,
    // The months after the trial start at its end, as Stripe's billing does.
    billingAnchor: trialEnd,
    cancelAtPeriodEnd: false,
    pendingPlanId: undefined,
    cancelledAt: undefined,
    graceUntil: undefined,
  };
  const amount = Math.floor((plan.monthlyCredits * (Date.parse(trialEnd) - Date.parse(start))) / monthMsFrom(start));
  return { next, grants: [periodGrant(sub.orgId, plan, start, Math.min(amount, plan.monthlyCredits))] };
}

/** A more expensive plan at once (paid through the provider subscription on file), with prorated credits. */
export function upgradeNow(sub: Subscription, plan: Plan, ctx: Context): Outcome {
  const next: Subscription = {
    ...sub,
    planId: plan.planId,
    status: nextStatus(sub.status, 'plan.upgraded'),
    pendingPlanId: undefined,
    cancelAtPeriodEnd: false,
  };
  return { next, grants: withThreshold(sub, next, ctx, proration(sub, next, ctx)) };
}

/**
 * A plan sold by contract, put on by a platform admin: at once, with no payment step, and with
 * the credits an upgrade brings (the prorated difference, in the same period). The contract is
 * invoiced outside, through Odoo (`OdooManual`), its invoices recorded by hand as they are paid:
 * no provider subscription, and none of another provider's payment method. Whatever was set to
 * end, change or fall due (a cancellation, a cheaper plan, a grace period, a suspension) is over.
 */
export function startContract(sub: Subscription, plan: Plan, ctx: Context): Outcome {
  const next: Subscription = endedAtStripe(sub, {
    ...sub,
    planId: plan.planId,
    status: nextStatus(sub.status, 'contract.started'),
    pendingPlanId: undefined,
    cancelAtPeriodEnd: false,
    cancelledAt: undefined,
    graceUntil: undefined,
    suspendedAt: undefined,
    paymentProvider: 'OdooManual',
    providerSubscriptionId: undefined,
    paymentMethodId: sub.paymentProvider === 'OdooManual' ? sub.paymentMethodId : undefined,
    contractPlanId: plan.planId,
  });
  return { next, grants: withThreshold(sub, next, ctx, proration(sub, next, ctx)) };
}

export function scheduleDowngrade(sub: Subscription, plan: Plan): Outcome {
  return {
    next: { ...sub, status: nextStatus(sub.status, 'downgrade.scheduled'), pendingPlanId: plan.planId, cancelAtPeriodEnd: false },
    grants: [],
  };
}

export function requestCancel(sub: Subscription): Outcome {
  if (sub.cancelAtPeriodEnd) return same(sub);
  return {
    next: { ...sub, status: nextStatus(sub.status, 'cancel.requested'), cancelAtPeriodEnd: true, pendingPlanId: undefined },
    grants: [],
  };
}

export function resume(sub: Subscription): Outcome {
  if (!sub.cancelAtPeriodEnd && !sub.pendingPlanId) return same(sub);
  return {
    next: { ...sub, status: nextStatus(sub.status, 'resumed'), cancelAtPeriodEnd: false, pendingPlanId: undefined },
    grants: [],
  };
}

/**
 * Stripe's word that its subscription ends at the period end, or goes on after all (its
 * customer portal): only that changes here. A scheduled downgrade stays scheduled, as Stripe
 * still charges the price it was sent for it: taken back through the API, both go, and Stripe
 * is sent the plan's price again (`commitThroughStripe`); taken back at Stripe, the downgrade
 * applies at the period end, as Stripe bills it.
 */
export function cancelSetAtStripe(sub: Subscription, cancel: boolean): Outcome {
  if (!!sub.cancelAtPeriodEnd === cancel) return same(sub);
  const status = nextStatus(sub.status, cancel ? 'cancel.requested' : 'resumed');
  return { next: { ...sub, status, cancelAtPeriodEnd: cancel }, grants: [] };
}

export interface PlanPayment {
  planId: string;
  provider: NonNullable<Subscription['paymentProvider']>;
  providerSubscriptionId?: string;
  /** The provider's id of the payment method it charges (Stripe's `pm_…`); absent, the one on file stays if the provider does. */
  paymentMethodId?: string;
  odooSaleOrderId?: string;
  /** The period the provider says it paid for (Stripe invoices); a manual payment pays one period. */
  periodStart?: string;
  periodEnd?: string;
  /** Stripe's checkout completion: the plan starts, the money comes with its invoice. */
  activationOnly?: boolean;
  /** The monthly price the plan was bought at (a checkout's), kept with it (`Subscription.price`). */
  price?: { amountMinor: number; currency: string };
  /** The billing cycle anchor Stripe was given for a checkout (the period end when it was made): ours follows it. */
  billingAnchor?: string;
}

/** A period that ended before the current one started: news about it changes nothing now. */
const behind = (sub: Subscription, periodEnd?: string) => periodEnd !== undefined && periodEnd <= sub.currentPeriodStart;

/**
 * An invoice of a Stripe subscription that is not the organization's (an old, replaced one).
 * Only a completed checkout moves the organization to another Stripe subscription, and never
 * back to one cancelled at Stripe for a change here (`endedAtStripe`), whatever bills it now.
 */
const otherStripeSubscription = (sub: Subscription, payment: PlanPayment) =>
  payment.provider === 'Stripe' &&
  !!payment.providerSubscriptionId &&
  (!!sub.endedProviderSubscriptionIds?.includes(payment.providerSubscriptionId) ||
    (!payment.activationOnly &&
      sub.paymentProvider === 'Stripe' &&
      !!sub.providerSubscriptionId &&
      payment.providerSubscriptionId !== sub.providerSubscriptionId));

/**
 * A payment (or a completed checkout) for a plan. The subscription is Active on that plan
 * from now on: a more expensive plan than the one in use brings the prorated difference of
 * credits. The paid period moves `paidThrough` forward, which ends a grace period; a payment
 * with no period of its own (by hand) pays the month after what is paid already, and during
 * a trial the month after the trial (which was free), as Stripe charges from the trial's end.
 * A payment for a period already behind the current one, or for a Stripe subscription that is
 * no longer the organization's, is `stale`: recorded, it changes nothing here.
 */
export function planPaid(sub: Subscription, payment: PlanPayment, ctx: Context): Outcome | 'stale' {
  if (behind(sub, payment.periodEnd) || otherStripeSubscription(sub, payment)) return 'stale';
  const plan = planIn(ctx.plans, payment.planId);
  const next: Subscription = { ...sub, status: nextStatus(sub.status, 'payment.succeeded') };
  // An invoice of the Stripe subscription on file pays for a plan we asked Stripe for: one other
  // than ours is old news (a period's invoice redelivered after an upgrade, or the next period's
  // of a scheduled downgrade, which the renewal applies), and moves no plan. Whether that plan is
  // cheaper than ours is not asked: the catalogue may have re-priced it since (what it sells a plan
  // at now is not what this subscription paid for it), while our plan is the one Stripe bills.
  const invoiceOnFile =
    payment.provider === 'Stripe' && !payment.activationOnly && payment.providerSubscriptionId === sub.providerSubscriptionId;
  const olderPlan = invoiceOnFile && plan.planId !== sub.planId;
  // A checkout is a purchase: whatever was set to end with the period (a trial's cancellation) is over.
  if (payment.activationOnly) {
    next.cancelAtPeriodEnd = false;
    next.pendingPlanId = undefined;
    // Checkout anchors Stripe's cycle at the end of our period (`checkout.ts`): ours follows it.
    // The anchor Stripe was given when the checkout was made: completed after that period ended,
    // the subscription was renewed first (`caughtUp`), and its period end is no longer that day.
    if (payment.provider === 'Stripe') next.billingAnchor = payment.billingAnchor ?? sub.currentPeriodEnd;
  }
  if (!olderPlan && (plan.planId !== sub.planId || effectivePlanId(sub) !== sub.planId)) {
    next.planId = plan.planId;
    next.pendingPlanId = undefined;
    next.cancelAtPeriodEnd = false;
    next.cancelledAt = undefined;
  }
  // The price bought at goes with the plan (a move to another one without a price leaves none: `commitChange`).
  if (payment.price && next.planId === plan.planId) next.price = { planId: plan.planId, ...payment.price };
  // A plan not sold, paid by hand, is a contract's invoice: the plan is the platform admins' to change or end.
  if (payment.provider !== 'Stripe' && plan.isPublic === false && plan.planId !== FREE_PLAN_ID && next.planId === plan.planId)
    next.contractPlanId = plan.planId;
  next.paymentProvider = payment.provider;
  if (payment.provider === 'Stripe') next.providerSubscriptionId = payment.providerSubscriptionId ?? sub.providerSubscriptionId;
  else next.providerSubscriptionId = undefined;
  // A payment method belongs to its provider: another provider's payment leaves none of the old one's.
  next.paymentMethodId = payment.paymentMethodId ?? (payment.provider === sub.paymentProvider ? sub.paymentMethodId : undefined);
  if (payment.odooSaleOrderId) next.odooSaleOrderId = payment.odooSaleOrderId;
  if (!payment.activationOnly) {
    const unpaidFrom = sub.status === 'Trial' ? (sub.trialEnd ?? sub.currentPeriodEnd) : sub.currentPeriodStart;
    const paidThrough =
      payment.periodEnd ??
      periodEndAfter(
        sub,
        [sub.paidThrough, unpaidFrom].filter((d): d is string => !!d).reduce((a, b) => (a > b ? a : b)),
      );
    if (!sub.paidThrough || paidThrough > sub.paidThrough) next.paidThrough = paidThrough;
  }
  // A month after the current one paid by hand for the plan kept: the customer goes on, so what
  // was set to end with the period (a cancellation, a cheaper plan) is over, or the month paid
  // would never be given. Stripe's own cancellation is its subscription events' to say.
  if (
    payment.provider !== 'Stripe' &&
    plan.planId === next.planId &&
    next.paidThrough !== sub.paidThrough &&
    next.paidThrough! > next.currentPeriodEnd
  ) {
    next.cancelAtPeriodEnd = false;
    next.cancelledAt = undefined;
    next.pendingPlanId = undefined;
  }
  if (next.paidThrough && next.paidThrough >= next.currentPeriodEnd) next.graceUntil = undefined;
  next.suspendedAt = undefined;
  // Paid by hand, a plan billed by Stripe is cancelled there first (`recordManualPayment`).
  const paid = payment.provider === 'Stripe' ? next : endedAtStripe(sub, next);
  return { next: paid, grants: withThreshold(sub, paid, ctx, proration(sub, paid, ctx)) };
}

/**
 * A failed payment for the plan: the grace period starts (once); after it, the schedule
 * suspends. A failure for a period already behind, or already paid (`paidThrough`), is `stale`.
 */
export function paymentFailed(sub: Subscription, ctx: Context, periodEnd?: string): Outcome | 'stale' {
  if (behind(sub, periodEnd) || (periodEnd !== undefined && !!sub.paidThrough && periodEnd <= sub.paidThrough)) return 'stale';
  const status = nextStatus(sub.status, 'payment.failed');
  if (status !== 'Active' || sub.graceUntil) return { next: { ...sub, status }, grants: [] };
  return { next: { ...sub, status, graceUntil: plusDays(iso(ctx), GRACE_DAYS) }, grants: [] };
}

/**
 * The period ended: the next one starts where it ended, a scheduled downgrade takes effect,
 * and the plan in use grants its monthly credits for the new period (once: the key names
 * the period). A paid plan whose new period is not paid yet enters its grace period. A grace
 * period that ended by the time the new period starts (the schedule catching up on periods
 * missed) suspends first, as the grace-end job would have: the new period is Free's.
 */
export function renew(current: Subscription, ctx: Context): Outcome {
  const start = current.currentPeriodEnd;
  const graceOver = current.status === 'Active' && !!current.graceUntil && current.graceUntil <= start;
  const sub = graceOver ? endGrace(current, ctx).next : current;
  const status = nextStatus(sub.status, 'period.renewed');
  const next: Subscription = {
    ...sub,
    status,
    planId: sub.pendingPlanId ?? sub.planId,
    // The scheduled plan's price, as Stripe was sent it when it was scheduled (`pendingPrice`).
    ...(sub.pendingPlanId ? { price: sub.pendingPrice } : {}),
    pendingPlanId: undefined,
    currentPeriodStart: start,
    currentPeriodEnd: periodEndAfter(sub, start),
  };
  const plan = planIn(ctx.plans, effectivePlanId(next));
  // Whether the new period is owed is what the subscription pays for its plan (the price kept when
  // bought), not the catalogue's price now: a plan made free (or priced by contract) since is still
  // charged by Stripe to those who bought it.
  if (
    status === 'Active' &&
    pricePaid(next, plan).amountMinor > 0 &&
    (!next.paidThrough || next.paidThrough < next.currentPeriodEnd)
  )
    next.graceUntil ??= plusDays(start, GRACE_DAYS);
  return { next, grants: [periodGrant(sub.orgId, plan, start)] };
}

/** Back to Free with a new period and its credits: how every paid subscription ends. */
function endOnFree(sub: Subscription, status: Subscription['status'], ctx: Context, rollPeriod: boolean): Outcome {
  const free = planIn(ctx.plans, FREE_PLAN_ID);
  const start = rollPeriod ? sub.currentPeriodEnd : sub.currentPeriodStart;
  const next: Subscription = {
    ...sub,
    status,
    planId: FREE_PLAN_ID,
    pendingPlanId: undefined,
    cancelAtPeriodEnd: false,
    cancelledAt: status === 'Cancelled' ? iso(ctx) : sub.cancelledAt,
    graceUntil: undefined,
    suspendedAt: undefined,
    providerSubscriptionId: undefined,
    currentPeriodStart: start,
    currentPeriodEnd: rollPeriod ? periodEndAfter(sub, start) : sub.currentPeriodEnd,
  };
  return { next, grants: rollPeriod ? [periodGrant(sub.orgId, free, start)] : withThreshold(sub, next, ctx) };
}

/** The period of a subscription set to cancel ended. */
export const endCancelled = (sub: Subscription, ctx: Context) =>
  endOnFree(sub, nextStatus(sub.status, 'period.ended.cancelled'), ctx, true);

/** The trial ended unpaid. */
export const endTrial = (sub: Subscription, ctx: Context) => endOnFree(sub, nextStatus(sub.status, 'trial.ended'), ctx, true);

/** The provider ended the subscription (cancelled at Stripe): Free for the rest of the period, no new grant. */
export const providerCancelled = (sub: Subscription, ctx: Context) =>
  endOnFree(sub, nextStatus(sub.status, 'provider.cancelled'), ctx, false);

/**
 * The grace period ran out unpaid: suspended, the organization works on Free meanwhile. The
 * suspension counts from the grace's end, however late the schedule gets to it (a job that was
 * down, a renewal catching up): 30 days after it, it expires, as it would have on time.
 */
export function endGrace(sub: Subscription, ctx: Context): Outcome {
  const now = iso(ctx);
  const next: Subscription = {
    ...sub,
    status: nextStatus(sub.status, 'grace.ended'),
    graceUntil: undefined,
    suspendedAt: sub.graceUntil && sub.graceUntil < now ? sub.graceUntil : now,
  };
  return { next, grants: withThreshold(sub, next, ctx) };
}

/** Suspended too long: expired, back to Free for the rest of the period. */
export const endSuspension = (sub: Subscription, ctx: Context) =>
  endOnFree(sub, nextStatus(sub.status, 'suspension.ended'), ctx, false);

/** The scheduled work that changes a subscription (a trial's reminder only notifies). */
export type ScheduledKind = Exclude<DueKind, 'trial-reminder'>;

/**
 * What each schedule does to a subscription whose work of its kind is due: the one table that the
 * jobs (jobs.ts) and a route catching a subscription up before its change (`caughtUp`) apply.
 */
export const SCHEDULED: Record<ScheduledKind, (sub: Subscription, ctx: Context) => Outcome> = {
  renewal: renew,
  cancellation: endCancelled,
  'trial-end': endTrial,
  'grace-end': endGrace,
  expiry: endSuspension,
};

/** The scheduled work due at `at` that fell due first (on the same date, in the table's order), if any. */
export function firstDue(sub: Subscription, at: string): ScheduledKind | undefined {
  const due = dueDates(sub);
  let first: ScheduledKind | undefined;
  for (const kind of Object.keys(SCHEDULED) as ScheduledKind[]) {
    const date = due[kind];
    if (date !== undefined && date <= at && (first === undefined || date < due[first]!)) first = kind;
  }
  return first;
}
