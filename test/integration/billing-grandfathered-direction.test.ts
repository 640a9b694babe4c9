import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCheckout } from '@platform/domain/billing/checkout';
import { runSubscriptionJob } from '@platform/domain/billing/jobs';
import { savePlan } from '@platform/domain/billing/plans';
import { getSubscription, plusDays } from '@platform/domain/billing/subscription-store';
import type { OrgAccess } from '@platform/domain/identity/access';
import {
  api,
  createTeam,
  deliverStripeEvent,
  signUpPlatformAdmin,
  signUpUser,
  stripeCalls,
  type SignedInUser,
} from '../helpers/api.ts';
import { buyPlan, chargedAtStripe, newBillingOrg, periodInvoice, planEditor, setSubscription } from '../helpers/billing.ts';

/**
 * Up or down, for a subscriber who keeps the price bought at (grandfathered): a platform admin
 * re-pricing a plan changes what new buyers pay, not what this subscriber pays. A plan change, a
 * checkout's billing anchor, a late invoice and a renewal's grace period are decided on what the
 * subscription pays (its kept `price`), not on the catalogue's prices of the moment. Every test
 * makes plans and organizations of its own (DynamoDB Local, the local Stripe).
 */
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

let admin: SignedInUser;
beforeAll(async () => {
  admin = await signUpPlatformAdmin('gfd-admin');
});

const { putPlan, newPlan, newPlanId } = planEditor(() => admin, 'gfd');
const subscription = (user: SignedInUser, orgId: string) =>
  api('GET', `/v1/orgs/${orgId}/subscription`, { token: user.accessToken });
const changeTo = (user: SignedInUser, orgId: string, planId: string) =>
  api('PUT', `/v1/orgs/${orgId}/subscription`, { token: user.accessToken, body: { planId } });
const buy = buyPlan;

/** The last change our API sent Stripe for its subscription `stripeId`. */
const lastStripeChange = async (stripeId: string) =>
  (await stripeCalls()).filter((c) => c.method === 'POST' && c.path === `/v1/subscriptions/${stripeId}`).at(-1);

/** The first invoice of the period (paid for `planId`), delivered late: after the owner changed plan. */
const lateFirstInvoice = (orgId: string, sub: Record<string, string>, planId: string, amount: number) =>
  deliverStripeEvent(
    'invoice.paid',
    periodInvoice(sub, orgId, planId, amount, `gfd_${randomUUID().replaceAll('-', '').slice(0, 16)}`),
  );

const accessOf = (orgId: string): OrgAccess =>
  ({
    orgId,
    org: { orgId } as never,
    caller: { kind: 'user', userId: randomUUID(), groups: [], isPlatformAdmin: false },
    permissions: new Set(['billing:manage']),
    actorId: randomUUID(),
    actorType: 'user',
  }) as OrgAccess;

describe('a late invoice of the Stripe subscription on file (local Stripe)', () => {
  it('of the plan left by an upgrade moves no plan, even after the admin re-priced that plan above the one Stripe bills now', async () => {
    const low = await newPlan({ name: 'GFD Low', monthlyCredits: 500, priceMinor: 1000 });
    const high = await newPlan({ name: 'GFD High', monthlyCredits: 2000, priceMinor: 3000 });
    const owner = await signUpUser('gfd-late');
    const { orgId } = await createTeam(owner);
    await buy(owner, orgId, low);
    const up = await changeTo(owner, orgId, high);
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    const stripeId = up.body.providerSubscriptionId as string;
    expect(await chargedAtStripe(stripeId)).toBe(3000);
    // New buyers of Low pay 5,000 from now on: more than High, which this subscriber is billed.
    expect((await putPlan(low, { priceMinor: 5000 })).status).toBe(200);

    const late = await lateFirstInvoice(orgId, up.body, low, 1000);
    expect(late.status, JSON.stringify(late.body)).toBe(200);
    const after = (await subscription(owner, orgId)).body;
    expect(await chargedAtStripe(stripeId)).toBe(3000);
    expect({ planId: after.planId, price: after.price, status: after.status }).toEqual({
      planId: high,
      price: { planId: high, amountMinor: 3000, currency: 'USD' },
      status: 'Active',
    });
  }, 90_000);
});

describe('a plan change, up or down by what the subscriber pays (local Stripe)', () => {
  it('paying 1,000 for a plan re-priced to 5,000, a plan sold at 3,000 is an upgrade: applied at once, with prorated credits', async () => {
    const low = await newPlan({ name: 'GFD Up Low', monthlyCredits: 500, priceMinor: 1000 });
    const high = await newPlan({ name: 'GFD Up High', monthlyCredits: 2000, priceMinor: 3000 });
    const owner = await signUpUser('gfd-up');
    const { orgId } = await createTeam(owner);
    const bought = await buy(owner, orgId, low);
    expect((await putPlan(low, { priceMinor: 5000 })).status).toBe(200);
    expect((await subscription(owner, orgId)).body.price).toEqual({ planId: low, amountMinor: 1000, currency: 'USD' });

    const up = await changeTo(owner, orgId, high);
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    expect({ planId: up.body.planId, pendingPlanId: up.body.pendingPlanId, price: up.body.price }).toEqual({
      planId: high,
      pendingPlanId: undefined,
      price: { planId: high, amountMinor: 3000, currency: 'USD' },
    });
    // Stripe charges the prorated difference now, and the organization gets its prorated credits.
    const swap = await lastStripeChange(bought.providerSubscriptionId!);
    expect(swap!.params).toMatchObject({ proration_behavior: 'always_invoice', 'items[0][price_data][unit_amount]': '3000' });
    const ledger = await api('GET', `/v1/orgs/${orgId}/credits/transactions?type=grant`, { token: owner.accessToken });
    const proration = (ledger.body.items as Array<{ amount: number; description: string }>).find(
      (t) => t.description === 'GFD Up High plan from GFD Up Low: prorated monthly credits',
    );
    expect(proration?.amount).toBeGreaterThan(0);
  }, 90_000);

  it('paying 3,000 for a plan re-priced down to 500, a plan sold at 1,000 is a downgrade: scheduled for the period end, the period paid kept', async () => {
    const low = await newPlan({ name: 'GFD Down Low', monthlyCredits: 500, priceMinor: 1000 });
    const high = await newPlan({ name: 'GFD Down High', monthlyCredits: 2000, priceMinor: 3000 });
    const owner = await signUpUser('gfd-down');
    const { orgId } = await createTeam(owner);
    const bought = await buy(owner, orgId, high);
    expect((await putPlan(high, { priceMinor: 500 })).status).toBe(200);

    const down = await changeTo(owner, orgId, low);
    expect(down.status, JSON.stringify(down.body)).toBe(200);
    expect({
      planId: down.body.planId,
      pendingPlanId: down.body.pendingPlanId,
      price: down.body.price,
    }).toEqual({
      planId: high,
      pendingPlanId: low,
      price: { planId: high, amountMinor: 3000, currency: 'USD' },
    });
    // Stripe charges Low from the next period, with nothing prorated for the month already paid.
    const swap = await lastStripeChange(bought.providerSubscriptionId!);
    expect(swap!.params).toMatchObject({ proration_behavior: 'none', 'items[0][price_data][unit_amount]': '1000' });
  }, 90_000);
});

describe('a checkout of a plan, up or down by what the organization pays (DynamoDB Local, local Stripe)', () => {
  it('paying 1,000 for a plan re-priced to 5,000, buying one sold at 3,000 keeps the period (Stripe’s cycle anchored at its end)', async () => {
    const low = newPlanId();
    const high = newPlanId();
    const actor = randomUUID();
    await savePlan(low, { name: 'GFD Co Low', monthlyCredits: 500, priceMinor: 1000, isPublic: true }, actor);
    await savePlan(high, { name: 'GFD Co High', monthlyCredits: 2000, priceMinor: 3000, isPublic: true }, actor);
    const orgId = await newBillingOrg('gfd-checkout', ago(10));
    // Bought at 1,000 and paid by hand since (a payment by hand keeps the price the plan was bought at).
    const sub = await setSubscription(orgId, {
      planId: low,
      price: { planId: low, amountMinor: 1000, currency: 'USD' },
      paymentProvider: 'PayPal',
    });
    await savePlan(low, { priceMinor: 5000 }, actor);

    await createCheckout(accessOf(orgId), { planId: high });
    const call = (await stripeCalls()).find((c) => c.params['metadata[orgId]'] === orgId && c.path === '/v1/checkout/sessions');
    expect(call!.params['metadata[planId]']).toBe(high);
    expect(call!.params['subscription_data[billing_cycle_anchor]']).toBe(
      String(Math.floor(Date.parse(sub.currentPeriodEnd) / 1000)),
    );
  });
});

describe('a renewal into a period not paid yet (DynamoDB Local)', () => {
  it('starts the grace period for a plan bought at 1,000 that the catalogue has since made free: Stripe still charges it', async () => {
    const planId = newPlanId();
    const actor = randomUUID();
    await savePlan(planId, { name: 'GFD Renew', monthlyCredits: 500, priceMinor: 1000, isPublic: true }, actor);
    const orgId = await newBillingOrg('gfd-renew', ago(32)); // its first period ended two days ago
    const first = await setSubscription(orgId, {
      planId,
      price: { planId, amountMinor: 1000, currency: 'USD' },
      paymentProvider: 'Stripe',
      providerSubscriptionId: `sub_gfd_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
    });
    await setSubscription(orgId, { paidThrough: first.currentPeriodEnd });
    // No longer sold, priced by contract from now on: those who bought it keep paying Stripe 1,000.
    await savePlan(planId, { priceMinor: 0, isPublic: false }, actor);

    expect((await runSubscriptionJob('renewal')).failed.filter((f) => f.orgId === orgId)).toEqual([]);
    const renewed = await getSubscription(orgId);
    expect(renewed).toMatchObject({ planId, status: 'Active', currentPeriodStart: first.currentPeriodEnd });
    expect(renewed.graceUntil).toBe(plusDays(first.currentPeriodEnd, 7));
  });
});
