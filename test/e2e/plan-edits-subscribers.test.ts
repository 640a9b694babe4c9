import { beforeAll, describe, expect, it } from 'vitest';
import { billingDb } from '@platform/domain/billing/entities';
import {
  api,
  createTeam,
  deliverStripeEvent,
  eventually,
  payCheckout,
  signUpPlatformAdmin,
  signUpUser,
  type SignedInUser,
} from '../helpers/api.ts';
import { buyPlan, chargedAtStripe, planEditor } from '../helpers/billing.ts';

/**
 * The plan catalogue edited by a platform admin under live subscriptions: a plan no longer sold,
 * its monthly credits or its price changed. Each test makes its own plans and organizations.
 */
let admin: SignedInUser;
beforeAll(async () => {
  admin = await signUpPlatformAdmin('edits-admin');
});

const { putPlan, newPlan } = planEditor(() => admin, 'edits');
const subscription = (user: SignedInUser, orgId: string) =>
  api('GET', `/v1/orgs/${orgId}/subscription`, { token: user.accessToken });
/** Buys `planId` through checkout and answers the Stripe subscription's id. */
const buy = async (user: SignedInUser, orgId: string, planId: string) =>
  (await buyPlan(user, orgId, planId)).providerSubscriptionId!;

describe('a plan no longer sold (made private by a platform admin)', () => {
  it('binds none of its subscribers: one billed by Stripe cancels and resumes it, one on its trial buys another plan', async () => {
    const retiring = await newPlan({ name: 'Retiring', monthlyCredits: 500, priceMinor: 1500, trialDays: 7 });
    const owner = await signUpUser('edits-retire');
    const [billed, trial] = await Promise.all([createTeam(owner), createTeam(owner)]);
    await buy(owner, billed.orgId, retiring);
    const started = await api('PUT', `/v1/orgs/${trial.orgId}/subscription`, {
      token: owner.accessToken,
      body: { planId: retiring },
    });
    expect(started.body).toMatchObject({ planId: retiring, status: 'Trial' });

    expect((await putPlan(retiring, { isPublic: false })).status).toBe(200);

    const cancelled = await api('POST', `/v1/orgs/${billed.orgId}/subscription/cancel`, { token: owner.accessToken });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body).toMatchObject({ planId: retiring, cancelAtPeriodEnd: true });
    const resumed = await api('POST', `/v1/orgs/${billed.orgId}/subscription/resume`, { token: owner.accessToken });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body).toMatchObject({ planId: retiring, cancelAtPeriodEnd: false });
    // Not sold any more, so not by checkout either; another plan is.
    const again = await api('POST', `/v1/orgs/${trial.orgId}/checkout`, { token: owner.accessToken, body: { planId: retiring } });
    expect(again.status).toBe(422);
    const other = await api('POST', `/v1/orgs/${trial.orgId}/checkout`, { token: owner.accessToken, body: { planId: 'team' } });
    expect(other.status, JSON.stringify(other.body)).toBe(201);
  }, 60_000);

  it('bought through a checkout made while it was sold and paid after: the buyer cancels it', async () => {
    const planId = await newPlan({ name: 'Mid-checkout', monthlyCredits: 500, priceMinor: 1500 });
    const owner = await signUpUser('edits-midco');
    const { orgId } = await createTeam(owner);
    const checkout = await api('POST', `/v1/orgs/${orgId}/checkout`, { token: owner.accessToken, body: { planId } });
    expect(checkout.status).toBe(201);
    expect((await putPlan(planId, { isPublic: false })).status).toBe(200);
    await payCheckout(checkout.body.url);
    await eventually(
      () => subscription(owner, orgId),
      (r) => r.body.planId === planId && r.body.status === 'Active',
      15_000,
    );
    const cancelled = await api('POST', `/v1/orgs/${orgId}/subscription/cancel`, { token: owner.accessToken });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
  }, 60_000);

  it('a contract stays one whatever the catalogue lists: its plan made public, its owner still cannot end it', async () => {
    const planId = await newPlan({ name: 'Negotiated', monthlyCredits: 5000, priceMinor: 0, isPublic: false });
    const owner = await signUpUser('edits-contract');
    const { orgId } = await createTeam(owner);
    const put = await api('PUT', `/v1/orgs/${orgId}/subscription`, { token: admin.accessToken, body: { planId } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ planId, paymentProvider: 'OdooManual', contractPlanId: planId });
    expect((await putPlan(planId, { isPublic: true })).status).toBe(200);
    const cancel = await api('POST', `/v1/orgs/${orgId}/subscription/cancel`, { token: owner.accessToken });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(409);
    expect(cancel.body.detail).toBe('The Negotiated plan is a contract: a platform admin changes or ends it');
    // Ended by a platform admin, and once it is off that plan nothing is a contract any more.
    expect((await api('POST', `/v1/orgs/${orgId}/subscription/cancel`, { token: admin.accessToken })).status).toBe(200);
  }, 60_000);
});

describe('monthly credits edited mid-period', () => {
  /** The organization's grant rows of the current period, for the plan it moved to. */
  async function upgradeGrant(owner: SignedInUser, orgId: string, toPlanName: string) {
    const rows = (await api('GET', `/v1/orgs/${orgId}/credits/transactions?type=grant&limit=100`, { token: owner.accessToken }))
      .body.items as Array<{ amount: number; description: string; metadata?: Record<string, unknown> }>;
    return rows.filter((r) => r.description.startsWith(`${toPlanName} plan from`));
  }

  it('an upgrade prorates from the credits granted for the old plan, not from what the catalogue says of it since', async () => {
    const small = await newPlan({ name: 'Small', monthlyCredits: 1000, priceMinor: 1000 });
    const big = await newPlan({ name: 'Big', monthlyCredits: 5000, priceMinor: 5000 });
    const owner = await signUpUser('edits-credits');
    const [lowered, raised] = await Promise.all([createTeam(owner), createTeam(owner)]);
    await Promise.all([buy(owner, lowered.orgId, small), buy(owner, raised.orgId, small)]);

    // Both organizations were credited Small's 1,000 for the period; then the catalogue changes.
    expect((await putPlan(small, { monthlyCredits: 100 })).status).toBe(200);
    const up1 = await api('PUT', `/v1/orgs/${lowered.orgId}/subscription`, { token: owner.accessToken, body: { planId: big } });
    expect(up1.status, JSON.stringify(up1.body)).toBe(200);
    expect((await putPlan(small, { monthlyCredits: 3000 })).status).toBe(200);
    const up2 = await api('PUT', `/v1/orgs/${raised.orgId}/subscription`, { token: owner.accessToken, body: { planId: big } });
    expect(up2.status, JSON.stringify(up2.body)).toBe(200);

    // (5,000 − 1,000) × the share of a period that began moments ago: nearly all of 4,000, either way.
    for (const { orgId } of [lowered, raised]) {
      const [grant, ...more] = await upgradeGrant(owner, orgId, 'Big');
      expect(more).toEqual([]);
      const amount = { [orgId === lowered.orgId ? 'lowered' : 'raised']: grant!.amount };
      expect(grant!.amount, JSON.stringify(amount)).toBeGreaterThan(3_900);
      expect(grant!.amount, JSON.stringify(amount)).toBeLessThanOrEqual(4_000);
      expect(grant!.metadata).toMatchObject({ fromMonthlyCredits: 1000, toMonthlyCredits: 5000 });
    }
  }, 90_000);
});

describe('a price edited under live subscriptions', () => {
  it('subscribers keep the price they bought at, a downgrade taken back too; a new purchase pays the new price', async () => {
    const low = await newPlan({ name: 'Low', monthlyCredits: 500, priceMinor: 1000 });
    const high = await newPlan({ name: 'High', monthlyCredits: 2000, priceMinor: 3000 });
    const owner = await signUpUser('edits-price');
    const [a, b, c] = await Promise.all([createTeam(owner), createTeam(owner), createTeam(owner)]);
    const [stripeA, stripeB] = await Promise.all([buy(owner, a.orgId, high), buy(owner, b.orgId, high)]);

    expect((await putPlan(high, { priceMinor: 4500 })).status).toBe(200);
    // B schedules a move to Low (Stripe charges Low's price from the next period), then takes it back.
    const down = await api('PUT', `/v1/orgs/${b.orgId}/subscription`, { token: owner.accessToken, body: { planId: low } });
    expect(down.status, JSON.stringify(down.body)).toBe(200);
    expect(await chargedAtStripe(stripeB)).toBe(1000);
    const resumed = await api('POST', `/v1/orgs/${b.orgId}/subscription/resume`, { token: owner.accessToken });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect({ a: await chargedAtStripe(stripeA), b: await chargedAtStripe(stripeB) }).toEqual({ a: 3000, b: 3000 });
    // The subscription says what it is charged, not what the catalogue lists now.
    expect(resumed.body.price).toEqual({ planId: high, amountMinor: 3000, currency: 'USD' });

    // A new buyer pays the catalogue's price of the moment, and keeps it in turn.
    const checkout = await api('POST', `/v1/orgs/${c.orgId}/checkout`, { token: owner.accessToken, body: { planId: high } });
    expect(checkout.body).toMatchObject({ amountMinor: 4500 });
    await payCheckout(checkout.body.url);
    await eventually(
      () => billingDb.subscription.get({ orgId: c.orgId }).go({ consistent: true }),
      (r) => r.data?.planId === high && !!r.data.providerSubscriptionId,
      15_000,
    );
    const stripeC = (await billingDb.subscription.get({ orgId: c.orgId }).go({ consistent: true })).data!.providerSubscriptionId!;
    expect((await putPlan(high, { priceMinor: 6000 })).status).toBe(200);
    for (const step of ['cancel', 'resume'])
      expect((await api('POST', `/v1/orgs/${c.orgId}/subscription/${step}`, { token: owner.accessToken })).status).toBe(200);
    const downC = await api('PUT', `/v1/orgs/${c.orgId}/subscription`, { token: owner.accessToken, body: { planId: low } });
    expect(downC.status).toBe(200);
    expect((await api('POST', `/v1/orgs/${c.orgId}/subscription/resume`, { token: owner.accessToken })).status).toBe(200);
    expect(await chargedAtStripe(stripeC)).toBe(4500);
  }, 90_000);

  it('an upgrade takes the new plan’s price of the moment', async () => {
    const low = await newPlan({ name: 'Entry', monthlyCredits: 500, priceMinor: 1000 });
    const high = await newPlan({ name: 'Step-up', monthlyCredits: 2000, priceMinor: 3000 });
    const owner = await signUpUser('edits-upgrade');
    const { orgId } = await createTeam(owner);
    const stripeId = await buy(owner, orgId, low);
    expect((await putPlan(high, { priceMinor: 3500 })).status).toBe(200);
    const up = await api('PUT', `/v1/orgs/${orgId}/subscription`, { token: owner.accessToken, body: { planId: high } });
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    expect(await chargedAtStripe(stripeId)).toBe(3500);
    // Kept from then on: a later raise does not reach it when a downgrade is taken back.
    expect((await putPlan(high, { priceMinor: 5000 })).status).toBe(200);
    expect((await api('PUT', `/v1/orgs/${orgId}/subscription`, { token: owner.accessToken, body: { planId: low } })).status).toBe(
      200,
    );
    expect((await api('POST', `/v1/orgs/${orgId}/subscription/resume`, { token: owner.accessToken })).status).toBe(200);
    expect(await chargedAtStripe(stripeId)).toBe(3500);
  }, 60_000);
});

describe('a scheduled downgrade and a cancellation set in Stripe’s portal', () => {
  /** Buys High, then schedules Low: Stripe charges Low's price from the next period. */
  async function downgraded(label: string) {
    const low = await newPlan({ name: `${label} Low`, monthlyCredits: 300, priceMinor: 1000 });
    const high = await newPlan({ name: `${label} High`, monthlyCredits: 2000, priceMinor: 3000 });
    const owner = await signUpUser(`edits-portal-${label.toLowerCase()}`);
    const { orgId } = await createTeam(owner);
    const stripeId = await buy(owner, orgId, high);
    const down = await api('PUT', `/v1/orgs/${orgId}/subscription`, { token: owner.accessToken, body: { planId: low } });
    expect(down.status, JSON.stringify(down.body)).toBe(200);
    expect(await chargedAtStripe(stripeId)).toBe(1000);
    const portal = async (cancel: boolean) => {
      const object = {
        id: stripeId,
        object: 'subscription',
        status: 'active',
        cancel_at_period_end: cancel,
        metadata: { orgId },
      };
      const res = await deliverStripeEvent('customer.subscription.updated', object);
      expect(res.body, JSON.stringify(res.body)).toMatchObject({ outcome: 'applied' });
    };
    return { owner, orgId, stripeId, low, high, portal };
  }

  it('keeps the downgrade Stripe still charges for: taken back there, the plan renewed is the one Stripe bills', async () => {
    const { owner, orgId, stripeId, low, portal } = await downgraded('Portal');
    await portal(true);
    expect((await subscription(owner, orgId)).body).toMatchObject({ cancelAtPeriodEnd: true, pendingPlanId: low });
    await portal(false);
    expect((await subscription(owner, orgId)).body).toMatchObject({ cancelAtPeriodEnd: false, pendingPlanId: low });
    expect(await chargedAtStripe(stripeId)).toBe(1000);
  }, 90_000);

  it('resumed through the API, both are taken back: Stripe charges the plan kept, at its price', async () => {
    const { owner, orgId, stripeId, high, portal } = await downgraded('Resume');
    await portal(true);
    const resumed = await api('POST', `/v1/orgs/${orgId}/subscription/resume`, { token: owner.accessToken });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body).toMatchObject({ planId: high, cancelAtPeriodEnd: false });
    expect(resumed.body.pendingPlanId).toBeUndefined();
    expect(await chargedAtStripe(stripeId)).toBe(3000);
  }, 90_000);
});
