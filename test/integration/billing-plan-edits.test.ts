import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runSubscriptionJob } from '@platform/domain/billing/jobs';
import { recordManualPayment } from '@platform/domain/billing/payments';
import { getSubscription, plusDays } from '@platform/domain/billing/subscription-store';
import { cancel, changePlan } from '@platform/domain/billing/subscriptions';
import type { OrgAccess } from '@platform/domain/identity/access';
import { put } from '@platform/domain/shared/transactions';
import { newBillingOrg, setSubscription } from '../helpers/billing.ts';

/**
 * What a subscription keeps of the plans it was sold, whatever the catalogue says since: the
 * contract a platform admin put it on, and the price Stripe charges (DynamoDB Local). Jobs run
 * at the real "now" and only find the subscriptions these tests dated in the past.
 */
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

const newOrg = (start = ago(10)) => newBillingOrg('edits', start);

const accessOf = (orgId: string, isPlatformAdmin: boolean): OrgAccess =>
  ({
    orgId,
    org: { orgId } as never,
    caller: { kind: 'user', userId: randomUUID(), groups: isPlatformAdmin ? ['admin'] : [], isPlatformAdmin },
    permissions: new Set(['billing:manage']),
    actorId: 'u',
    actorType: 'user',
  }) as OrgAccess;

describe('a contract (DynamoDB Local)', () => {
  it('is what a platform admin put the subscription on, by hand too: a plan not sold paid by hand binds its owner, one sold does not', async () => {
    const [contract, handPaid] = await Promise.all([newOrg(), newOrg()]);
    const odoo = (orgId: string, planId: string) => ({
      provider: 'OdooManual' as const,
      reference: `INV-${orgId.slice(-12)}`,
      odooSaleOrderId: `SO-${orgId.slice(-12)}`,
      amountMinor: 50_000,
      currency: 'USD',
      planId,
    });
    await recordManualPayment(accessOf(contract, true), odoo(contract, 'enterprise'));
    expect(await getSubscription(contract)).toMatchObject({ planId: 'enterprise', contractPlanId: 'enterprise' });
    await expect(cancel(accessOf(contract, false))).rejects.toMatchObject({ status: 409 });

    await recordManualPayment(accessOf(handPaid, true), odoo(handPaid, 'pro'));
    expect(await getSubscription(handPaid)).toMatchObject({ planId: 'pro', paymentProvider: 'OdooManual' });
    expect(await cancel(accessOf(handPaid, false))).toMatchObject({ cancelAtPeriodEnd: true });
  });

  it('ends when the subscription leaves its plan: back on it by another way, it is no contract', async () => {
    const orgId = await newOrg();
    await changePlan(accessOf(orgId, true), 'enterprise');
    expect((await getSubscription(orgId)).contractPlanId).toBe('enterprise');
    const moved = await setSubscription(orgId, { planId: 'pro' });
    expect(moved.contractPlanId).toBeUndefined();
    const back = await setSubscription(orgId, { planId: 'enterprise' });
    expect(back.contractPlanId).toBeUndefined();
    expect(await cancel(accessOf(orgId, false))).toMatchObject({ cancelAtPeriodEnd: true });
  });
});

describe('the price Stripe charges (DynamoDB Local)', () => {
  it('for a scheduled plan, as Stripe was sent it when scheduled, is the plan’s price once the renewal applies it', async () => {
    const orgId = await newOrg(ago(35)); // its first period ended five days ago
    await setSubscription(orgId, {
      planId: 'team',
      price: { planId: 'team', amountMinor: 9_000, currency: 'USD' },
      pendingPlanId: 'pro',
      pendingPrice: { planId: 'pro', amountMinor: 1_500, currency: 'USD' },
      paymentProvider: 'PayPal',
      paidThrough: plusDays(ago(0), 400),
    });
    expect((await runSubscriptionJob('renewal')).failed).toEqual([]);
    const renewed = await getSubscription(orgId);
    expect(renewed).toMatchObject({ planId: 'pro', price: { planId: 'pro', amountMinor: 1_500, currency: 'USD' } });
    expect(renewed.pendingPrice).toBeUndefined();
  });

  it('goes with its plan: a move to another plan that names no price leaves none (the catalogue’s stands in)', async () => {
    const orgId = await newOrg();
    const bought = await setSubscription(orgId, {
      planId: 'team',
      price: { planId: 'team', amountMinor: 9_000, currency: 'USD' },
    });
    expect(bought.price).toEqual({ planId: 'team', amountMinor: 9_000, currency: 'USD' });
    expect((await setSubscription(orgId, { planId: 'pro' })).price).toBeUndefined();
  });
});
