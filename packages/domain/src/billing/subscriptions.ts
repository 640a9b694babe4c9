import { clock } from '../shared/clock.ts';
import { ConflictError, NotFoundError, PaymentMethodRequiredError, UnprocessableError } from '../shared/errors.ts';
import type { OrgAccess } from '../identity/access.ts';
import type { Plan, Subscription } from './entities.ts';
import { canTake, effectivePlanId } from './lifecycle.ts';
import { FREE_PLAN_ID, isUpgradeFor, planCatalogue, planIn, pricePaid } from './plans.ts';
import { paymentGateway, type PlanPrice, type SubscriptionTerms } from './stripe/client.ts';
import type { WriteItem } from '../shared/transactions.ts';
import * as changes from './subscription-changes.ts';
import {
  MAX_CATCH_UP,
  claimChange,
  closingWrites,
  commitChange,
  commitOrConflict,
  getSubscription,
  liveSubscription,
  preloadedSubscription,
  releaseClaim,
  subscriptionRead,
} from './subscription-store.ts';

export { getSubscription, preloadedSubscription, subscriptionRead };

/**
 * What an organization's owners and admins do with its subscription: change plan, cancel at
 * the period end, resume. The rules:
 * - a cheaper paid plan is scheduled for the period end (`pendingPlanId`); Free is reached
 *   by cancelling (the subscription returns to Free at the period end);
 * - a more expensive plan applies at once with prorated credits, and needs a payment method:
 *   the Stripe subscription on file (Stripe prorates the charge), otherwise a checkout;
 *   a Free organization that never had a trial starts the plan's trial instead;
 * - a plan sold by contract (not public) is put on by a platform admin only, at once and with no
 *   payment step: it is invoiced outside (`startContract`); on one, only a platform admin changes
 *   or ends it (`refuseOnContract`); a plan no longer sold binds none of those who bought it;
 * - a price edited in the catalogue applies to purchases and plan changes from then on: a
 *   subscriber keeps the price bought at until changing plan (`priceFor`);
 * - a subscription billed by Stripe is changed at Stripe first, then here, so a refusal by
 *   Stripe changes nothing; after any change Stripe's price and cancellation match ours
 *   (`commitThroughStripe`);
 * - a change applies to the subscription as the schedules leave it: work of theirs that is due
 *   (the period over, its renewal not run yet) is applied first (`caughtUp`).
 */
export const billedByStripe = (sub: Subscription) => sub.paymentProvider === 'Stripe' && !!sub.providerSubscriptionId;

const byPlatformAdmin = (access: OrgAccess) => access.caller.kind === 'user' && access.caller.isPlatformAdmin;

/**
 * Whether the subscription is on a contract: a platform admin put it on the plan it is on
 * (`contractPlanId`, which a move to any other plan ends). The plan is the one the subscription
 * is on, in use or suspended: a suspended contract is the admins' to settle too. A plan's being
 * private says nothing of its subscribers: one no longer sold (made private) still bills through
 * Stripe those who bought it, and the Free plan is nobody's contract.
 */
const onContract = (sub: Subscription) => sub.planId !== FREE_PLAN_ID && sub.contractPlanId === sub.planId;

/**
 * A subscription on a contract is the platform admins' to change or end: its owners would
 * otherwise leave it mid-period, as any paid plan ranks above its price of nothing (an "upgrade"
 * that a checkout would apply at once, the contract gone).
 */
export function refuseOnContract(access: OrgAccess, sub: Subscription, plans: Map<string, Plan>) {
  if (!onContract(sub) || byPlatformAdmin(access)) return;
  const plan = planIn(plans, sub.planId);
  throw new ConflictError(`The ${plan.name} plan is a contract: a platform admin changes or ends it`);
}

/**
 * The price Stripe is to charge for `planId`: what the subscription pays for it (`pricePaid`).
 * Subscribers keep the price they bought at until they change plan themselves (grandfathered):
 * Stripe moved back to the subscription's own plan (a downgrade or a cancellation taken back) is
 * sent the price it pays for it (`price`); a move to another plan takes the catalogue's price
 * now, as a purchase does. A subscription that does not know its price (written before it kept
 * one) is sent the catalogue's.
 */
function priceFor(sub: Subscription, planId: string, plans: Map<string, Plan>): PlanPrice {
  const plan = planIn(plans, planId);
  return { planId, name: `${plan.name} plan`, ...pricePaid(sub, plan) };
}

/** The subscription as it keeps the price Stripe was sent: its plan's, or the scheduled plan's. */
function withPrice(sub: Subscription, { planId, amountMinor, currency }: PlanPrice): Subscription {
  const price = { planId, amountMinor, currency };
  return sub.pendingPlanId === planId ? { ...sub, pendingPrice: price } : { ...sub, price };
}

export async function changePlan(access: OrgAccess, planId: string): Promise<Subscription> {
  const [read, plans] = await Promise.all([preloadedSubscription(access.orgId, access.preloaded), planCatalogue()]);
  const target = planIn(plans, planId);
  if (target.isPublic === false && !byPlatformAdmin(access))
    throw new UnprocessableError(`The ${target.name} plan is sold by contract; a platform admin records it`);
  refuseOnContract(access, read, plans);
  if (target.planId === FREE_PLAN_ID && read.planId === FREE_PLAN_ID) return read;
  refuseOnceTakenEffect(read);
  const sub = await caughtUp(read, plans);
  const ctx = { plans, now: clock.now() };
  if (target.planId === FREE_PLAN_ID) return cancelSubscription(sub, plans);
  const inUse = planIn(plans, effectivePlanId(sub));
  if (target.planId === sub.planId && effectivePlanId(sub) === sub.planId) return resumeSubscription(sub, plans);
  if (target.isPublic === false) return startContract(sub, changes.startContract(sub, target, ctx), plans);

  // Up or down by what the subscriber pays for the plan in use, not by what the catalogue sells it at now.
  if (!isUpgradeFor(sub, inUse, target)) return commitThroughStripe(sub, changes.scheduleDowngrade(sub, target), plans);
  if (inUse.planId === FREE_PLAN_ID && target.trialDays > 0 && !changes.trialUsed(sub))
    return commitOrConflict({ prev: sub, ...changes.startTrial(sub, target, ctx) });
  // Overdue: an upgrade would grant its credits at once on a card that is failing.
  if (sub.graceUntil && billedByStripe(sub))
    throw new ConflictError(
      `A payment is overdue (the grace period ends ${sub.graceUntil}): once Stripe collects it, the plan can be upgraded`,
    );
  if (sub.status !== 'Active' || !billedByStripe(sub))
    throw new PaymentMethodRequiredError(
      `The ${target.name} plan needs a payment method: buy it with POST /v1/orgs/${access.orgId}/checkout {"planId":"${target.planId}"}`,
    );
  return commitThroughStripe(sub, changes.upgradeNow(sub, target, ctx), plans, { prorate: true });
}

/** Cancels at the end of the period (the organization keeps its plan until then). */
export async function cancel(access: OrgAccess): Promise<Subscription> {
  const [read, plans] = await Promise.all([preloadedSubscription(access.orgId, access.preloaded), planCatalogue()]);
  refuseOnContract(access, read, plans);
  refuseOnceTakenEffect(read);
  return cancelSubscription(await caughtUp(read, plans), plans);
}

/** Takes back a cancellation or a scheduled downgrade before the period ends. */
export async function resume(access: OrgAccess): Promise<Subscription> {
  const [read, plans] = await Promise.all([preloadedSubscription(access.orgId, access.preloaded), planCatalogue()]);
  refuseOnContract(access, read, plans);
  refuseOnceTakenEffect(read);
  return resumeSubscription(await caughtUp(read, plans), plans);
}

/** How often a catch-up reads the subscription again after a commit refused, before answering 409. */
const CATCH_UP_ATTEMPTS = 3;

/**
 * The subscription with the schedules' work that is due applied first, as the jobs would apply
 * it: step by step (`changes.SCHEDULED`), the work that fell due first first, each step committed
 * under the version read. A change asked for after the period ended, before the hourly renewal
 * ran, then applies to the period under way, whatever the hour (a cancellation was dated at the
 * end of the period over, and the next job ended a month already paid at once; a month paid by
 * hand was the one over). Nothing due, the common case: nothing read or written. A job (or
 * another change) committing first refuses the step: the subscription is read again and caught
 * up from there (its grants are keyed by period, so nothing is granted twice); refused again and
 * again (a change under way at Stripe holds it), or too far behind for one request, 409.
 */
export async function caughtUp(read: Subscription, plans: Map<string, Plan>): Promise<Subscription> {
  let sub = read;
  let refused = 0;
  for (let steps = 0; ; steps++) {
    const now = clock.now();
    const kind = changes.firstDue(sub, now.toISOString());
    if (!kind) return sub;
    if (steps >= MAX_CATCH_UP)
      throw new ConflictError('The subscription is many periods behind its schedules: they are caught up in part; retry');
    const committed = await commitChange({ prev: sub, ...changes.SCHEDULED[kind](sub, { plans, now }) });
    if (committed.ok) {
      sub = committed.next;
      continue;
    }
    if (++refused >= CATCH_UP_ATTEMPTS) throw new ConflictError('The subscription changed meanwhile; read it again and retry');
    const live = await liveSubscription(sub.orgId);
    if (!live) throw new NotFoundError('Organization not found');
    sub = live;
  }
}

async function cancelSubscription(sub: Subscription, plans?: Map<string, Plan>): Promise<Subscription> {
  if (sub.planId === FREE_PLAN_ID) throw new UnprocessableError('The Free plan has nothing to cancel');
  return commitThroughStripe(sub, changes.requestCancel(sub), plans);
}

/**
 * Its period over, a cancellation or a scheduled downgrade has taken effect, even before the
 * schedule gets to it: a change asked for then (taking it back, another plan, a cancellation
 * instead of the downgrade) was decided on what no longer holds. It is refused on the
 * subscription as read, before anything is written, rather than applied to what the schedule
 * leaves (`caughtUp`): taking back a cancellation would answer an ended subscription. Once the
 * schedule has applied it, changes are taken again.
 */
function refuseOnceTakenEffect(sub: Subscription) {
  if ((sub.cancelAtPeriodEnd || sub.pendingPlanId) && clock.nowIso() >= sub.currentPeriodEnd)
    throw new ConflictError(
      `The period ended at ${sub.currentPeriodEnd}: the ${sub.cancelAtPeriodEnd ? 'cancellation' : 'scheduled plan change'} has taken effect and can no longer be taken back or changed; once the schedule has applied it, change the plan again`,
    );
}

async function resumeSubscription(sub: Subscription, plans?: Map<string, Plan>): Promise<Subscription> {
  return commitThroughStripe(sub, changes.resume(sub), plans);
}

/**
 * What the Stripe subscription must say for ours: the price of the plan it charges next (a
 * scheduled downgrade's, else the plan's: `priceFor`) and whether it ends at the period end.
 * Every change moves Stripe from the terms of the subscription before to those after, so
 * whatever the sequence (cancel then upgrade, downgrade then cancel then resume), Stripe and we
 * agree; the price sent is kept with the change (`withPrice`).
 */
const stripeTerms = (sub: Subscription) => ({ planId: sub.pendingPlanId ?? sub.planId, cancel: !!sub.cancelAtPeriodEnd });

/**
 * Commits a change made on a request. One billed by Stripe whose terms change is made at
 * Stripe first, then here, so that a refusal by Stripe changes nothing; and it first claims
 * the subscription (`claimChange`, a conditional write on its version), so that of two racing
 * changes the loser is refused (409) before it has touched Stripe, and nothing else commits
 * until the claimant does. (Re-syncing Stripe after a lost commit instead could not take back
 * the prorated charge of an upgrade Stripe had already invoiced.)
 */
async function commitThroughStripe(
  sub: Subscription,
  outcome: changes.Outcome,
  plans?: Map<string, Plan>,
  options: { prorate?: boolean } = {},
): Promise<Subscription> {
  if (outcome.next === sub) return sub;
  const before = stripeTerms(sub);
  const after = stripeTerms(outcome.next);
  if (!billedByStripe(sub) || (before.planId === after.planId && before.cancel === after.cancel))
    return commitOrConflict({ prev: sub, ...outcome });
  const terms: SubscriptionTerms = {};
  let next = outcome.next;
  if (after.planId !== before.planId) {
    const price = priceFor(sub, after.planId, plans ?? (await planCatalogue()));
    terms.price = { plan: price, prorate: !!options.prorate };
    next = withPrice(next, price);
  }
  if (after.cancel !== before.cancel) terms.cancelAtPeriodEnd = after.cancel;
  const claimed = await claimChange(sub);
  try {
    await paymentGateway.updateSubscription(sub.providerSubscriptionId!, terms);
  } catch (error) {
    await releaseClaim(claimed);
    throw error;
  }
  return commitOrConflict({ prev: claimed, claimed: true, ...outcome, next });
}

/**
 * A plan sold by contract, put on by a platform admin (`changes.startContract`): at once, with no
 * payment step. A subscription billed by Stripe stops being charged there first
 * (`cancelAtStripe`), or the organization would pay twice. Should the commit then be refused
 * (the claim outlived, say), the subscription ends as Stripe's did (Cancelled, on Free) and the
 * admin is told so with a 409: putting the plan again applies it.
 */
async function startContract(sub: Subscription, outcome: changes.Outcome, plans: Map<string, Plan>): Promise<Subscription> {
  if (!billedByStripe(sub)) return commitOrConflict({ prev: sub, ...outcome });
  const stopped = await cancelAtStripe(sub, plans);
  const committed = await commitChange({ prev: stopped.claimed, claimed: true, ...outcome });
  if (committed.ok) return committed.next;
  await stopped.abandon();
  throw new ConflictError(
    'The Stripe subscription is cancelled, but the subscription changed meanwhile: the organization is on Free; put the plan again',
  );
}

/** A subscription's Stripe subscription, cancelled for a change that ends it here (`cancelAtStripe`). */
export interface StripeCancellation {
  /** The subscription as claimed: the change commits under it (`claimed: true`). */
  claimed: Subscription;
  /** The subscription as Stripe's cancellation leaves it: Cancelled, on Free for the rest of the period. */
  end: changes.Outcome;
  /** The change was refused: the subscription ends as Stripe's did (`end`), or, failing that, gives its claim back. */
  abandon(): Promise<void>;
}

/**
 * Cancels a subscription at Stripe at once, for a change after which Stripe must charge no more
 * (the organization deleted, its plan paid by hand or put on a contract). The subscription is
 * claimed first, so that no other change races the cancellation (the loser gets 409 before
 * Stripe is called), and a refusal by Stripe (502) gives the claim back and changes nothing. Once
 * Stripe has cancelled, the change commits under the claim; refused, it commits `end` instead
 * (`abandon`), so the subscription says what Stripe does. The period under way is not refunded.
 */
export async function cancelAtStripe(sub: Subscription, plans?: Map<string, Plan>): Promise<StripeCancellation> {
  const claimed = await claimChange(sub);
  try {
    await paymentGateway.cancelSubscription(sub.providerSubscriptionId!);
  } catch (error) {
    await releaseClaim(claimed);
    throw error;
  }
  const ended = changes.providerCancelled(claimed, { plans: plans ?? (await planCatalogue()), now: clock.now() });
  const end = { ...ended, next: changes.endedAtStripe(claimed, ended.next) };
  return {
    claimed,
    end,
    abandon: async () => {
      const committed = await commitChange({ prev: claimed, claimed: true, ...end });
      if (!committed.ok) await releaseClaim(claimed);
    },
  };
}

/** What a deleted organization's billing comes to: the writes for the deletion's transaction, and what to do if it fails. */
export interface BillingClosure {
  writes: WriteItem[];
  /** The plan in use to set on the organization item (the subscription ended with it), if it changed. */
  planId?: string;
  /** Whether its Stripe subscription was cancelled (it stays so, whatever the deletion's fate). */
  cancelledAtStripe: boolean;
  /** The deletion's transaction was refused: the subscription keeps what already happened at Stripe, and its claim ends. */
  abandon(): Promise<void>;
}

/**
 * An organization being deleted (a team, or a personal organization with its account) stops
 * paying. A subscription billed by Stripe is cancelled there at once (`cancelAtStripe`: nobody
 * is charged again for an organization that no longer exists): it is claimed first, so that no
 * plan change races the cancellation, and a refusal by Stripe (502) gives the claim back and
 * leaves everything as it was. The subscription then ends on Free and nothing stays due
 * (`closingWrites`), in the deletion's own transaction. Should that transaction be refused (the
 * organization changed meanwhile), the subscription's end is committed alone, so that it says
 * what Stripe does: the organization lives on, on Free. A paid plan or trial billed otherwise
 * (paid by hand) has nothing to cancel anywhere and simply ends with the organization, in the
 * same transaction; a Free one stays as it is. Either is written under the version `sub` was
 * read at, so a change that lands first (a trial, a checkout paid) refuses the deletion, and one
 * that lands after is refused.
 */
export async function closeBilling(sub: Subscription): Promise<BillingClosure> {
  if (!billedByStripe(sub)) {
    // Paid by hand (PayPal, Odoo) or a trial: nothing to cancel anywhere, the subscription ends with the organization.
    const ends = sub.planId !== FREE_PLAN_ID && canTake(sub.status, 'provider.cancelled');
    const end = ends ? changes.providerCancelled(sub, { plans: await planCatalogue(), now: clock.now() }) : undefined;
    return {
      writes: closingWrites(sub, end?.next ?? sub),
      ...(end ? { planId: effectivePlanId(end.next) } : {}),
      cancelledAtStripe: false,
      abandon: async () => {},
    };
  }
  const { claimed, end, abandon } = await cancelAtStripe(sub);
  return {
    writes: closingWrites(claimed, end.next, { claimed: true }),
    planId: effectivePlanId(end.next),
    cancelledAtStripe: true,
    abandon,
  };
}

/** The subscription as the API shows it: with the plan in use now. */
export const subscriptionView = ({ claimedUntil: _claim, ...sub }: Subscription) => ({
  ...sub,
  effectivePlanId: effectivePlanId(sub),
});
