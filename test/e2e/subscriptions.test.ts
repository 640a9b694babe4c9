import { beforeAll, describe, expect, inject, it } from 'vitest';
import { billingDb } from '@platform/domain/billing/entities';
import { signStripePayload } from '@platform/domain/billing/stripe/signature';
import { addMonths } from '@platform/domain/billing/subscription-store';
import {
  api,
  createTeam,
  eventually,
  payCheckout,
  signUpPlatformAdmin,
  signUpUser,
  stripeCalls,
  stripeSubscriptions,
  waitForNotification,
  type SignedInUser,
} from '../helpers/api.ts';
import { expectAnsweredAsStored } from '../helpers/as-stored.ts';

/**
 * A team's subscription over HTTP: a trial, a plan bought through checkout (the local Stripe
 * pays and sends its webhooks), an upgrade on the Stripe subscription with prorated credits,
 * a downgrade at the period end, cancel and resume, and who may do what.
 */
let owner: SignedInUser;
let admin: SignedInUser;
let viewer: SignedInUser;
let orgId: string;

beforeAll(async () => {
  [owner, admin, viewer] = await Promise.all([signUpUser('sub-owner'), signUpUser('sub-admin'), signUpUser('sub-viewer')]);
  ({ orgId } = await createTeam(owner, [
    { user: admin, role: 'admin' },
    { user: viewer, role: 'viewer' },
  ]));
});

const subscription = () => api('GET', `/v1/orgs/${orgId}/subscription`, { token: owner.accessToken });
const change = (planId: string, token = owner.accessToken) =>
  api('PUT', `/v1/orgs/${orgId}/subscription`, { token, body: { planId } });
/** The last call that changed this organization's Stripe subscription (other files' calls reach the same local Stripe). */
const lastStripeChange = async () => {
  const stripeId = (await billingDb.subscription.get({ orgId }).go({ consistent: true })).data!.providerSubscriptionId;
  const path = `/v1/subscriptions/${stripeId}`;
  return (await stripeCalls()).filter((c) => c.method === 'POST' && c.path === path).at(-1);
};
const credits = async () =>
  (await api('GET', `/v1/orgs/${orgId}/credits`, { token: owner.accessToken })).body.available as number;

describe('a subscription', () => {
  it('starts a paid plan’s trial for a Free organization, with the trial’s share of the plan’s credits', async () => {
    const res = await change('pro');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ planId: 'pro', effectivePlanId: 'pro', status: 'Trial', cancelAtPeriodEnd: false });
    const days = (Date.parse(res.body.trialEnd) - Date.parse(res.body.trialStart)) / 86_400_000;
    expect(days).toBe(14);
    expect(res.body.currentPeriodEnd).toBe(res.body.trialEnd);
    expect(await credits()).toBeGreaterThanOrEqual(100 + 900);
    // Owners and admins hear of it (through the table's stream).
    for (const user of [owner, admin])
      expect(await waitForNotification(user, 'subscription-changed', (n) => n.metadata?.status === 'Trial')).toMatchObject({
        title: 'Your subscription changed',
      });
  }, 40_000);

  it('is changed by owners and admins only: a viewer gets 403, an unknown plan 404, a plan sold by contract 422', async () => {
    expect((await change('team', viewer.accessToken)).status).toBe(403);
    expect((await api('POST', `/v1/orgs/${orgId}/subscription/cancel`, { token: viewer.accessToken })).status).toBe(403);
    expect((await change('platinum')).status).toBe(404);
    expect((await change('enterprise')).status).toBe(422);
    expect((await change('Not A Plan')).status).toBe(400);
  });

  it('needs a payment method for a more expensive plan: 402, pointing at checkout', async () => {
    const res = await change('team');
    expect(res.status).toBe(402);
    expect(res.body).toMatchObject({ type: expect.stringContaining('payment-required') });
    expect(res.body.detail).toContain(`/v1/orgs/${orgId}/checkout`);
  });

  it('becomes Active on the plan bought through checkout during the trial, charged from the trial’s end', async () => {
    const before = (await subscription()).body;
    const checkout = await api('POST', `/v1/orgs/${orgId}/checkout`, { token: admin.accessToken, body: { planId: 'pro' } });
    expect(checkout.status, JSON.stringify(checkout.body)).toBe(201);
    expect(checkout.body).toMatchObject({ url: expect.stringContaining('/checkout/cs_'), amountMinor: 2000, currency: 'USD' });
    const call = (await stripeCalls()).find((c) => c.params['metadata[orgId]'] === orgId && c.path === '/v1/checkout/sessions');
    expect(call!.params['subscription_data[trial_end]']).toBe(String(Math.floor(Date.parse(before.trialEnd) / 1000)));
    await payCheckout(checkout.body.url);
    const after = await eventually(subscription, (r) => r.body.status === 'Active');
    expect(after.body).toMatchObject({ planId: 'pro', status: 'Active', paymentProvider: 'Stripe', trialEnd: before.trialEnd });
    // The card Checkout saved, and the Stripe subscription it pays.
    const [stripeSubscription] = (await stripeSubscriptions()).filter((s) => s.metadata?.orgId === orgId);
    expect(after.body).toMatchObject({
      providerSubscriptionId: stripeSubscription!.id,
      paymentMethodId: stripeSubscription!.default_payment_method,
    });
    expect(after.body.paymentMethodId).toMatch(/^pm_/);
    // Once paid through Stripe, another checkout for a plan is refused: the plan is changed instead.
    const again = await api('POST', `/v1/orgs/${orgId}/checkout`, { token: owner.accessToken, body: { planId: 'team' } });
    expect(again.status).toBe(409);
  });

  it('upgrades at once on the Stripe subscription, with the prorated difference of credits', async () => {
    const before = await credits();
    const res = await change('team', admin.accessToken);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ planId: 'team', status: 'Active' });
    // The period is still the trial's (Stripe charges from its end): the time left counts as a share of a month, as the trial's grant did.
    const start = Date.parse(res.body.currentPeriodStart);
    const month = Date.parse(addMonths(res.body.currentPeriodStart, 1)) - start;
    const share =
      (Date.parse(res.body.currentPeriodEnd) - Date.now()) / Math.max(Date.parse(res.body.currentPeriodEnd) - start, month);
    expect(share).toBeLessThan(0.5);
    const granted = (await credits()) - before;
    expect(granted).toBeGreaterThan(8_000 * share - 20);
    expect(granted).toBeLessThanOrEqual(8_000 * share + 1);
    const ledger = await api('GET', `/v1/orgs/${orgId}/credits/transactions?type=grant`, { token: owner.accessToken });
    expect(ledger.body.items[0]).toMatchObject({ amount: granted, description: 'Team plan from Pro: prorated monthly credits' });
    const swap = await lastStripeChange();
    expect(swap!.params).toMatchObject({ proration_behavior: 'always_invoice', 'items[0][price_data][unit_amount]': '9900' });
  });

  it('schedules a cheaper plan for the period end, and takes it back on resume', async () => {
    const res = await change('pro');
    expect(res.body).toMatchObject({ planId: 'team', pendingPlanId: 'pro', status: 'Active' });
    const swap = await lastStripeChange();
    expect(swap!.params).toMatchObject({ proration_behavior: 'none', 'items[0][price_data][unit_amount]': '2000' });
    await waitForNotification(owner, 'subscription-changed', (n) => n.message.includes('The pro plan starts on'));
    const resumed = await api('POST', `/v1/orgs/${orgId}/subscription/resume`, { token: owner.accessToken });
    expect(resumed.status).toBe(200);
    expect(resumed.body.pendingPlanId).toBeUndefined();
    expect(resumed.body.planId).toBe('team');
  });

  it('cancels at the period end (Free by then), resumes, and treats a repeated cancel or resume as done', async () => {
    const cancel = () => api('POST', `/v1/orgs/${orgId}/subscription/cancel`, { token: owner.accessToken });
    const resume = () => api('POST', `/v1/orgs/${orgId}/subscription/resume`, { token: owner.accessToken });
    const first = await cancel();
    expect(first.body).toMatchObject({ cancelAtPeriodEnd: true, planId: 'team', effectivePlanId: 'team', status: 'Active' });
    expect((await cancel()).body.version).toBe(first.body.version);
    const cancelCall = await lastStripeChange();
    expect(cancelCall!.params.cancel_at_period_end).toBe('true');
    await waitForNotification(owner, 'subscription-changed', (n) => n.message.includes('The subscription ends on'));
    expect((await resume()).body).toMatchObject({ cancelAtPeriodEnd: false });
    expect((await resume()).status).toBe(200);
    // Free is reached by cancelling.
    expect((await change('free')).body).toMatchObject({ cancelAtPeriodEnd: true });
    expect((await resume()).body.cancelAtPeriodEnd).toBe(false);
  });

  it('cannot cancel the Free plan of another organization (422), nor act on an organization one is not in (404)', async () => {
    const other = await signUpUser('sub-other');
    const res = await api('POST', `/v1/orgs/${other.personalOrgId}/subscription/cancel`, { token: other.accessToken });
    expect(res.status).toBe(422);
    expect(
      (await api('PUT', `/v1/orgs/${other.personalOrgId}/subscription`, { token: owner.accessToken, body: { planId: 'pro' } }))
        .status,
    ).toBe(404);
  });
});

describe('a plan bought twice in one period', () => {
  const ledgerOf = async (user: SignedInUser, id: string) =>
    (await api('GET', `/v1/orgs/${id}/credits/transactions?type=grant&limit=100`, { token: user.accessToken })).body
      .items as Array<{
      amount: number;
      description: string;
    }>;
  const buyPro = async (user: SignedInUser, id: string) => {
    const checkout = await api('POST', `/v1/orgs/${id}/checkout`, { token: user.accessToken, body: { planId: 'pro' } });
    expect(checkout.status, JSON.stringify(checkout.body)).toBe(201);
    await payCheckout(checkout.body.url);
    await eventually(
      () => api('GET', `/v1/orgs/${id}/subscription`, { token: user.accessToken }),
      (r) => r.body.planId === 'pro' && r.body.status === 'Active',
    );
  };

  it('upgrades again within the request budget without a second proration of the same plan', async () => {
    const buyer = await signUpUser('sub-twice');
    const { orgId: id } = await createTeam(buyer);
    const upgrade = () => api('PUT', `/v1/orgs/${id}/subscription`, { token: buyer.accessToken, body: { planId: 'team' } });
    await buyPro(buyer, id);
    expect((await upgrade()).body).toMatchObject({ planId: 'team', status: 'Active' });
    // Stripe ends the subscription: Free for the rest of the same period, then Pro is bought again.
    const stripeSubscription = (await billingDb.subscription.get({ orgId: id }).go()).data!.providerSubscriptionId!;
    const raw = JSON.stringify({
      id: `evt_twice_${id}`,
      object: 'event',
      type: 'customer.subscription.deleted',
      created: Math.floor(Date.now() / 1000) + 1,
      data: { object: { id: stripeSubscription, status: 'canceled', metadata: { orgId: id } } },
    });
    const deleted = await api('POST', '/v1/webhooks/stripe', {
      rawBody: raw,
      headers: {
        'content-type': 'application/json',
        'stripe-signature': signStripePayload(raw, inject('cloud').env.STRIPE_WEBHOOK_SECRET!),
      },
    });
    expect(deleted.body).toMatchObject({ outcome: 'applied' });
    await buyPro(buyer, id);
    const before = await ledgerOf(buyer, id);

    // Team's proration for this period was granted by the first upgrade: the second one is
    // the same change of plan, and api() fails it past the budget of 3 DynamoDB requests.
    const again = await upgrade();
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ planId: 'team', status: 'Active' });
    const after = await ledgerOf(buyer, id);
    expect(after).toHaveLength(before.length);
    expect(after.filter((g) => g.description === 'Team plan from Pro: prorated monthly credits')).toHaveLength(1);
    expect(after.filter((g) => g.description === 'Pro plan from Free: prorated monthly credits')).toHaveLength(1);
  }, 40_000);
});

describe('the Stripe subscription behind it', () => {
  /** The Stripe subscription as the local Stripe holds it: Team is charged 9,900 cents a month, Pro 2,000. */
  const atStripe = async (stripeId: string) => {
    const env = inject('cloud').env;
    const res = await fetch(`${env.STRIPE_API_BASE}/v1/subscriptions/${stripeId}`, {
      headers: { authorization: `Bearer ${env.STRIPE_API_KEY ?? 'sk_test_local_development_only'}` },
    });
    const sub = (await res.json()) as {
      cancel_at_period_end: boolean;
      items: { data: Array<{ price: { unit_amount: number } }> };
    };
    return { price: sub.items.data[0]!.price.unit_amount, cancel: sub.cancel_at_period_end };
  };
  const PRICE: Record<string, number> = { pro: 2000, team: 9900 };
  /** What Stripe must hold for our subscription: the price of the plan charged next, and whether it ends. */
  const expected = (ours: { planId: string; pendingPlanId?: string; cancelAtPeriodEnd?: boolean }) => ({
    price: PRICE[ours.pendingPlanId ?? ours.planId],
    cancel: ours.cancelAtPeriodEnd ?? false,
  });
  const buy = async (user: SignedInUser, id: string, planId: string) => {
    const checkout = await api('POST', `/v1/orgs/${id}/checkout`, { token: user.accessToken, body: { planId } });
    expect(checkout.status, JSON.stringify(checkout.body)).toBe(201);
    await payCheckout(checkout.body.url);
    await eventually(
      () => api('GET', `/v1/orgs/${id}/subscription`, { token: user.accessToken }),
      (r) => r.body.planId === planId && r.body.status === 'Active' && r.body.paymentProvider === 'Stripe',
    );
    return (await billingDb.subscription.get({ orgId: id }).go()).data!.providerSubscriptionId!;
  };

  it('agrees with ours after every step of cancel → upgrade, cancel → downgrade, and downgrade → cancel → resume', async () => {
    const user = await signUpUser('sub-stripe-steps');
    const steps: Array<[orgId: string, stripeId: string, step: string]> = [];
    const [a, b, c] = await Promise.all([createTeam(user), createTeam(user), createTeam(user)]);
    const [onPro, onTeam, onTeam2] = await Promise.all([
      buy(user, a.orgId, 'pro'),
      buy(user, b.orgId, 'team'),
      buy(user, c.orgId, 'team'),
    ]);
    steps.push([a.orgId, onPro, 'cancel'], [a.orgId, onPro, 'team']);
    steps.push([b.orgId, onTeam, 'cancel'], [b.orgId, onTeam, 'pro']);
    steps.push([c.orgId, onTeam2, 'pro'], [c.orgId, onTeam2, 'cancel'], [c.orgId, onTeam2, 'resume']);
    for (const [id, stripeId, step] of steps) {
      const res =
        step === 'cancel' || step === 'resume'
          ? await api('POST', `/v1/orgs/${id}/subscription/${step}`, { token: user.accessToken })
          : await api('PUT', `/v1/orgs/${id}/subscription`, { token: user.accessToken, body: { planId: step } });
      expect(res.status, `${step}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(await atStripe(stripeId), `after ${step}`).toEqual(expected(res.body));
    }
    // Where each sequence ends: Team now (the cancellation taken back), Pro from the period end, Team again.
    const end = await Promise.all(
      [a, b, c].map(async ({ orgId: id }) => (await api('GET', `/v1/orgs/${id}/subscription`, { token: user.accessToken })).body),
    );
    expect(end.map((s) => [s.planId, s.pendingPlanId ?? null, s.cancelAtPeriodEnd])).toEqual([
      ['team', null, false],
      ['team', 'pro', false],
      ['team', null, false],
    ]);
  }, 60_000);

  it('is left as the winner left it when an upgrade and a cancel race: the loser (409) never reached Stripe', async () => {
    const user = await signUpUser('sub-stripe-race');
    const { orgId: id } = await createTeam(user);
    const stripeId = await buy(user, id, 'pro');
    const [up, cancelled] = await Promise.all([
      api('PUT', `/v1/orgs/${id}/subscription`, { token: user.accessToken, body: { planId: 'team' } }),
      api('POST', `/v1/orgs/${id}/subscription/cancel`, { token: user.accessToken }),
    ]);
    for (const res of [up, cancelled]) expect([200, 409]).toContain(res.status);
    const ours = (await api('GET', `/v1/orgs/${id}/subscription`, { token: user.accessToken })).body;
    expect(await atStripe(stripeId), JSON.stringify({ statuses: [up.status, cancelled.status], ours })).toEqual(expected(ours));
  }, 40_000);
});

describe('a plan sold by contract (Enterprise)', () => {
  let platformAdmin: SignedInUser;
  beforeAll(async () => {
    platformAdmin = await signUpPlatformAdmin('sub-contract-admin');
  });
  const grants = async (user: SignedInUser, id: string) =>
    (await api('GET', `/v1/orgs/${id}/credits/transactions?type=grant`, { token: user.accessToken })).body.items as Array<{
      amount: number;
      description: string;
    }>;

  it('is put on by a platform admin at once, invoiced outside (no payment step), with the prorated credits of an upgrade', async () => {
    const user = await signUpUser('sub-contract');
    const { orgId: id } = await createTeam(user);
    const path = `/v1/orgs/${id}/subscription`;
    const before = (await api('GET', path, { token: user.accessToken })).body;
    // Its owner cannot: it is not sold, by checkout or otherwise.
    expect((await api('PUT', path, { token: user.accessToken, body: { planId: 'enterprise' } })).status).toBe(422);

    const res = await api('PUT', path, { token: platformAdmin.accessToken, body: { planId: 'enterprise' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      planId: 'enterprise',
      effectivePlanId: 'enterprise',
      status: 'Active',
      paymentProvider: 'OdooManual',
      cancelAtPeriodEnd: false,
      currentPeriodStart: before.currentPeriodStart,
      currentPeriodEnd: before.currentPeriodEnd,
    });
    expect(res.body.providerSubscriptionId).toBeUndefined();
    expect((await api('GET', path, { token: user.accessToken })).body).toMatchObject({ planId: 'enterprise', status: 'Active' });
    // (100,000 − 100) monthly credits times the share of the period left: nearly all of it, on a team just made.
    const [prorated] = await grants(user, id);
    expect(prorated).toMatchObject({ description: 'Enterprise plan from Free: prorated monthly credits' });
    expect(prorated!.amount).toBeGreaterThan(99_000);
    expect(prorated!.amount).toBeLessThanOrEqual(99_900);
    // Its limits apply at once (org.planId moved in the same transaction).
    const limits = (await api('GET', `/v1/orgs/${id}/limits`, { token: user.accessToken })).body.items;
    expect(limits).toContainEqual(
      expect.objectContaining({ subject: `org#${id}`, resource: 'chat', window: 'hourly', limit: 10_000, source: 'plan' }),
    );
  });

  it('put on an organization billed by Stripe cancels its Stripe subscription at once: the card is charged no more', async () => {
    const user = await signUpUser('sub-contract-stripe');
    const { orgId: id } = await createTeam(user);
    const path = `/v1/orgs/${id}/subscription`;
    const checkout = await api('POST', `/v1/orgs/${id}/checkout`, { token: user.accessToken, body: { planId: 'pro' } });
    expect(checkout.status, JSON.stringify(checkout.body)).toBe(201);
    await payCheckout(checkout.body.url);
    const onStripe = await eventually(
      () => api('GET', path, { token: user.accessToken }),
      (r) => r.body.status === 'Active' && r.body.paymentProvider === 'Stripe' && !!r.body.providerSubscriptionId,
    );
    const stripeId = onStripe.body.providerSubscriptionId as string;

    // Claimed, cancelled at Stripe, committed: within the request budget (api() counts).
    const res = await api('PUT', path, { token: platformAdmin.accessToken, body: { planId: 'enterprise' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ planId: 'enterprise', status: 'Active', paymentProvider: 'OdooManual' });
    expect({ stripe: res.body.providerSubscriptionId, card: res.body.paymentMethodId }).toEqual({
      stripe: undefined,
      card: undefined,
    });
    expect((await stripeSubscriptions()).find((s) => s.id === stripeId)?.status).toBe('canceled');
    expect((await grants(user, id))[0]).toMatchObject({ description: 'Enterprise plan from Pro: prorated monthly credits' });
  }, 40_000);

  it('is changed or ended by a platform admin only: its owner’s plan change, cancellation, resumption and checkout are 409s', async () => {
    const user = await signUpUser('sub-contract-owner');
    const { orgId: id } = await createTeam(user);
    const path = `/v1/orgs/${id}/subscription`;
    const put = await api('PUT', path, { token: platformAdmin.accessToken, body: { planId: 'enterprise' } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    // Any paid plan ranks above a contract's price of nothing: an "upgrade" bought by checkout replaced it at once, mid-period.
    const tries = {
      pro: await api('PUT', path, { token: user.accessToken, body: { planId: 'pro' } }),
      free: await api('PUT', path, { token: user.accessToken, body: { planId: 'free' } }),
      cancel: await api('POST', `${path}/cancel`, { token: user.accessToken }),
      checkout: await api('POST', `/v1/orgs/${id}/checkout`, { token: user.accessToken, body: { planId: 'pro' } }),
    };
    for (const [what, res] of Object.entries(tries)) {
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(409);
      expect(res.body.detail).toBe('The Enterprise plan is a contract: a platform admin changes or ends it');
    }
    expect((await api('GET', path, { token: user.accessToken })).body).toMatchObject({
      planId: 'enterprise',
      effectivePlanId: 'enterprise',
      status: 'Active',
      cancelAtPeriodEnd: false,
      currentPeriodEnd: put.body.currentPeriodEnd,
    });
    // A platform admin ends it; its owner cannot take that back either. A credit pack is still the owner's to buy.
    const ended = await api('POST', `${path}/cancel`, { token: platformAdmin.accessToken });
    expect(ended.status, JSON.stringify(ended.body)).toBe(200);
    expect(ended.body).toMatchObject({ planId: 'enterprise', cancelAtPeriodEnd: true });
    expect((await api('POST', `${path}/resume`, { token: user.accessToken })).status).toBe(409);
    expect((await api('POST', `${path}/resume`, { token: platformAdmin.accessToken })).body).toMatchObject({
      cancelAtPeriodEnd: false,
    });
    const pack = await api('POST', `/v1/orgs/${id}/checkout`, { token: user.accessToken, body: { packId: 'credits-1000' } });
    expect(pack.status, JSON.stringify(pack.body)).toBe(201);
  }, 40_000);
});

describe('a change’s answer', () => {
  it('is the subscription as stored: each plan change, cancel and resume answers what a GET right after shows, field by field', async () => {
    const user = await signUpUser('sub-as-stored');
    const { orgId: id } = await createTeam(user);
    const path = `/v1/orgs/${id}/subscription`;
    const read = () => api('GET', path, { token: user.accessToken });
    const put = (planId: string) => () => api('PUT', path, { token: user.accessToken, body: { planId } });
    const post = (action: 'cancel' | 'resume') => () => api('POST', `${path}/${action}`, { token: user.accessToken });
    // Changes committed here alone (a trial is paid by nobody yet).
    await expectAnsweredAsStored([
      ['trial', put('pro'), read],
      ['cancel', post('cancel'), read],
      ['resume', post('resume'), read],
    ]);
    // Changes made at Stripe first, under a claim, then committed here.
    const checkout = await api('POST', `/v1/orgs/${id}/checkout`, { token: user.accessToken, body: { planId: 'pro' } });
    expect(checkout.status, JSON.stringify(checkout.body)).toBe(201);
    await payCheckout(checkout.body.url);
    await eventually(read, (r) => r.body.status === 'Active' && r.body.paymentProvider === 'Stripe');
    await expectAnsweredAsStored([
      ['upgrade', put('team'), read],
      ['downgrade', put('pro'), read],
      ['cancel instead', post('cancel'), read],
      ['resume', post('resume'), read],
      ['free by cancelling', put('free'), read],
    ]);
  }, 40_000);
});
