import type { WriteItem } from '../shared/transactions.ts';
import { put } from '../shared/transactions.ts';
import { billingDb, type Subscription } from './entities.ts';
import { FREE_PLAN_ID, getPlan } from './plans.ts';
import { addMonths, dueWrites, grantWrites, periodGrant, wholeSecond } from './subscription-store.ts';

export { addMonths };

/**
 * What a new organization starts with: a Free subscription for its first period, the
 * plan's monthly credits, and the marker that renews it, as writes for the transaction that
 * creates the organization, so an organization never exists without them. The grant's key
 * names the period: the renewal job, granting the same period again, changes nothing.
 */
export async function startingPlanWrites(orgId: string, at = new Date().toISOString()): Promise<WriteItem[]> {
  const plan = (await getPlan(FREE_PLAN_ID))!;
  const now = wholeSecond(at);
  const grant = periodGrant(orgId, plan, now);
  const subscription: Subscription = {
    orgId,
    planId: plan.planId,
    status: 'Active',
    currentPeriodStart: now,
    currentPeriodEnd: addMonths(now, 1),
    billingAnchor: now,
    cancelAtPeriodEnd: false,
    periodGrants: [grant.key],
    version: 1,
    createdAt: now,
  };
  return [
    put(billingDb.subscription.create(subscription)),
    ...dueWrites(undefined, subscription),
    ...grantWrites(orgId, [grant]),
  ];
}
