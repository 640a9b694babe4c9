import { clock } from '../shared/clock.ts';
import { PaymentMethodRequiredError, UnprocessableError } from '../shared/errors.ts';
import type { OrgAccess } from '../identity/access.ts';
import type { Plan, Subscription } from './entities.ts';
import { effectivePlanId } from './lifecycle.ts';
import { FREE_PLAN_ID, isUpgrade, planCatalogue, planIn } from './plans.ts';
import { paymentGateway } from './stripe/client.ts';
import * as changes from './subscription-changes.ts';
import { commitOrConflict, getSubscription } from './subscription-store.ts';

export { getSubscription };

/**
 * What an organization's owners and admins do with its subscription: change plan, cancel at
 * the period end, resume. The rules:
 * - a cheaper paid plan is scheduled for the period end (`pendingPlanId`); Free is reached
 *   by cancelling (the subscription returns to Free at the period end);
 * - a more expensive plan applies at once with prorated credits, and needs a payment method:
 *   the Stripe subscription on file (Stripe prorates the charge), otherwise a checkout;
 *   a Free organization that never had a trial starts the plan's trial instead;
 * - a subscription billed by Stripe is changed at Stripe first, then here, so a refusal by
 *   Stripe changes nothing.
 */
const billedByStripe = (sub: Subscription) => sub.paymentProvider === 'Stripe' && !!sub.providerSubscriptionId;

const priceOf = (plan: Plan) => ({
  planId: plan.planId,
  name: `${plan.name} plan`,
  amountMinor: plan.priceMinor,
  currency: plan.currency,
});

export async function changePlan(access: OrgAccess, planId: string): Promise<Subscription> {
  const [sub, plans] = await Promise.all([getSubscription(access.orgId), planCatalogue()]);
  const ctx = { plans, now: clock.now() };
  const target = planIn(plans, planId);
  if (target.isPublic === false && !(access.caller.kind === 'user' && access.caller.isPlatformAdmin))
    throw new UnprocessableError(`The ${target.name} plan is sold by contract; a platform admin records it`);
  if (target.planId === FREE_PLAN_ID) return sub.planId === FREE_PLAN_ID ? sub : cancelSubscription(sub);
  const inUse = planIn(plans, effectivePlanId(sub));
  if (target.planId === sub.planId && effectivePlanId(sub) === sub.planId) return resumeSubscription(sub, plans);

  if (!isUpgrade(inUse, target)) {
    if (billedByStripe(sub)) await paymentGateway.changePrice(sub.providerSubscriptionId!, priceOf(target), false);
    return commitOrConflict({ prev: sub, ...changes.scheduleDowngrade(sub, target) });
  }
  if (inUse.planId === FREE_PLAN_ID && target.trialDays > 0 && !changes.trialUsed(sub))
    return commitOrConflict({ prev: sub, ...changes.startTrial(sub, target, ctx) });
  if (sub.status !== 'Active' || !billedByStripe(sub))
    throw new PaymentMethodRequiredError(
      `The ${target.name} plan needs a payment method: buy it with POST /v1/orgs/${access.orgId}/checkout {"planId":"${target.planId}"}`,
    );
  await paymentGateway.changePrice(sub.providerSubscriptionId!, priceOf(target), true);
  return commitOrConflict({ prev: sub, ...changes.upgradeNow(sub, target, ctx) });
}

/** Cancels at the end of the period (the organization keeps its plan until then). */
export async function cancel(access: OrgAccess): Promise<Subscription> {
  return cancelSubscription(await getSubscription(access.orgId));
}

/** Takes back a cancellation or a scheduled downgrade before the period ends. */
export async function resume(access: OrgAccess): Promise<Subscription> {
  return resumeSubscription(await getSubscription(access.orgId));
}

async function cancelSubscription(sub: Subscription): Promise<Subscription> {
  if (sub.planId === FREE_PLAN_ID) throw new UnprocessableError('The Free plan has nothing to cancel');
  const outcome = changes.requestCancel(sub);
  if (outcome.next === sub) return sub;
  if (billedByStripe(sub)) await paymentGateway.setCancelAtPeriodEnd(sub.providerSubscriptionId!, true);
  return commitOrConflict({ prev: sub, ...outcome });
}

async function resumeSubscription(sub: Subscription, plans?: Map<string, Plan>): Promise<Subscription> {
  const outcome = changes.resume(sub);
  if (outcome.next === sub) return sub;
  if (billedByStripe(sub)) {
    if (sub.cancelAtPeriodEnd) await paymentGateway.setCancelAtPeriodEnd(sub.providerSubscriptionId!, false);
    if (sub.pendingPlanId) {
      const plan = planIn(plans ?? (await planCatalogue()), sub.planId);
      await paymentGateway.changePrice(sub.providerSubscriptionId!, priceOf(plan), false);
    }
  }
  return commitOrConflict({ prev: sub, ...outcome });
}

/** The subscription as the API shows it: with the plan in use now. */
export const subscriptionView = (sub: Subscription) => ({ ...sub, effectivePlanId: effectivePlanId(sub) });
