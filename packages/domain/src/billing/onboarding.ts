import type { WriteItem } from '../shared/transactions.ts';
import { put } from '../shared/transactions.ts';
import { billingDb, type Subscription } from './entities.ts';
import { creditWrites, periodGrantKey } from './ledger.ts';
import { FREE_PLAN_ID, getPlan } from './plans.ts';

export const addMonths = (iso: string, months: number) => {
  const date = new Date(iso);
  date.setUTCMonth(date.getUTCMonth() + months);
  return date.toISOString();
};

/**
 * What a new organization starts with: a Free subscription for its first period and the
 * plan's monthly credits, as writes for the transaction that creates the organization, so an
 * organization never exists without them. The grant's key names the period: the renewal
 * job, granting the same period again, changes nothing.
 */
export async function startingPlanWrites(orgId: string, now = new Date().toISOString()): Promise<WriteItem[]> {
  const plan = (await getPlan(FREE_PLAN_ID))!;
  const subscription: Subscription = {
    orgId,
    planId: plan.planId,
    status: 'Active',
    currentPeriodStart: now,
    currentPeriodEnd: addMonths(now, 1),
    cancelAtPeriodEnd: false,
    createdAt: now,
  };
  const writes = [put(billingDb.subscription.create(subscription))];
  if (plan.monthlyCredits > 0) {
    const grant = creditWrites(orgId, periodGrantKey(orgId, now), 'grant', plan.monthlyCredits, {
      description: `${plan.name} plan: monthly credits`,
    });
    writes.push(grant.row.write, grant.account);
  }
  return writes;
}
