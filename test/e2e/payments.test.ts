import { beforeAll, describe, expect, inject, it } from 'vitest';
import { signStripePayload } from '@platform/domain/billing/stripe/signature';
import {
  api,
  createTeam,
  errorPaths,
  eventually,
  payCheckout,
  platformAuditEvents,
  signUpPlatformAdmin,
  signUpUser,
  stripeSubscriptions,
  waitForNotification,
  type SignedInUser,
} from '../helpers/api.ts';
import { periodInvoice } from '../helpers/billing.ts';

/**
 * Payments over HTTP: credit packs and plans bought through checkout (the local Stripe pays
 * and sends signed webhooks), the webhook's verification, payments a platform admin records
 * by hand, the payments list, and the notifications that follow.
 */
let buyer: SignedInUser;
let owner: SignedInUser;
let viewer: SignedInUser;
let admin: SignedInUser;
let teamId: string;

beforeAll(async () => {
  [buyer, owner, viewer, admin] = await Promise.all([
    signUpUser('pay-buyer'),
    signUpUser('pay-owner'),
    signUpUser('pay-viewer'),
    signUpPlatformAdmin('pay-admin'),
  ]);
  ({ orgId: teamId } = await createTeam(owner, [{ user: viewer, role: 'viewer' }]));
});

const secret = () => inject('cloud').env.STRIPE_WEBHOOK_SECRET!;
const webhook = (raw: string, signature?: string) =>
  api('POST', '/v1/webhooks/stripe', {
    rawBody: raw,
    headers: { 'content-type': 'application/json', ...(signature !== undefined ? { 'stripe-signature': signature } : {}) },
  });
const event = (type: string, object: object) =>
  JSON.stringify({
    id: `evt_e2e_${Math.random().toString(36).slice(2)}`,
    object: 'event',
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object },
  });
const balance = async (user: SignedInUser, orgId: string) =>
  (await api('GET', `/v1/orgs/${orgId}/credits`, { token: user.accessToken })).body.available as number;

/** A platform admin records a payment by hand: PayPal, 20.00 USD, for Pro unless `extra` says otherwise. */
const payByHand = (orgId: string, reference: string, extra: object = { planId: 'pro' }) =>
  api('POST', `/v1/admin/orgs/${orgId}/payments`, {
    token: admin.accessToken,
    body: { provider: 'PayPal', reference, amountMinor: 2000, currency: 'USD', ...extra },
  });

/** A new user who bought the 5,000-credit pack (45.00 USD) through checkout: their balance before it, and the payment. */
async function packBought(name: string) {
  const user = await signUpUser(name);
  const orgId = user.personalOrgId;
  const before = await balance(user, orgId);
  const checkout = await api('POST', `/v1/orgs/${orgId}/checkout`, {
    token: user.accessToken,
    body: { packId: 'credits-5000' },
    headers: { 'idempotency-key': `${name}-${orgId}` },
  });
  await payCheckout(checkout.body.url);
  await eventually(
    () => balance(user, orgId),
    (b) => b === before + 5000,
  );
  const listed = async () => (await api('GET', `/v1/orgs/${orgId}/payments`, { token: user.accessToken })).body.items[0];
  const { paymentIntentId } = await listed();
  return { user, orgId, before, listed, paymentIntentId: paymentIntentId as string };
}

/** A call to the local Stripe's API, as an operator's dashboard (or a bank, on `/__local`) makes it. */
const stripeCall = (path: string, params: Record<string, string>) =>
  fetch(`${inject('cloud').env.STRIPE_API_BASE}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${inject('cloud').env.STRIPE_API_KEY}` },
    body: new URLSearchParams(params),
  });

describe('credit packs and checkout', () => {
  it('lists the packs on sale without signing in', async () => {
    const res = await api('GET', '/v1/credit-packs');
    expect(res.status).toBe(200);
    expect(res.body.items).toContainEqual({
      packId: 'credits-1000',
      name: '1,000 credits',
      credits: 1000,
      priceMinor: 1000,
      currency: 'USD',
    });
  });

  it('sells a pack: the checkout pays, the webhook credits it once, the payment is listed and announced', async () => {
    const orgId = buyer.personalOrgId;
    const before = await balance(buyer, orgId);
    const checkout = await api('POST', `/v1/orgs/${orgId}/checkout`, {
      token: buyer.accessToken,
      body: { packId: 'credits-5000' },
      headers: { 'idempotency-key': `pack-${orgId}` },
    });
    expect(checkout.status, JSON.stringify(checkout.body)).toBe(201);
    expect(checkout.body).toMatchObject({ amountMinor: 4500, currency: 'USD' });
    await payCheckout(checkout.body.url);
    await eventually(
      () => balance(buyer, orgId),
      (b) => b === before + 5000,
    );
    const payments = await api('GET', `/v1/orgs/${orgId}/payments`, { token: buyer.accessToken });
    expect(payments.body.items).toMatchObject([
      {
        purpose: 'credit-pack',
        packId: 'credits-5000',
        amountMinor: 4500,
        currency: 'USD',
        status: 'succeeded',
        provider: 'Stripe',
      },
    ]);
    expect(await waitForNotification(buyer, 'payment-received')).toMatchObject({ message: expect.stringContaining('45.00 USD') });
    // Both of Stripe's events about that payment arrived; it counts once.
    expect(await balance(buyer, orgId)).toBe(before + 5000);
  });

  it('a checkout’s Idempotency-Key is the caller’s: two managers of one team may use the same one for their own purchases', async () => {
    const [first, second] = await Promise.all([signUpUser('pay-key-a'), signUpUser('pay-key-b')]);
    const { orgId } = await createTeam(first, [{ user: second, role: 'admin' }]);
    const buy = (user: SignedInUser, packId: string) =>
      api('POST', `/v1/orgs/${orgId}/checkout`, {
        token: user.accessToken,
        body: { packId },
        headers: { 'idempotency-key': 'buy-credits' },
      });
    const a = await buy(first, 'credits-1000');
    const b = await buy(second, 'credits-5000');
    expect([a.status, b.status], JSON.stringify(b.body)).toEqual([201, 201]);
    expect([a.body.amountMinor, b.body.amountMinor]).toEqual([1000, 4500]);
    expect(b.body.sessionId).not.toBe(a.body.sessionId);
    // Each one's retry is answered its own checkout again.
    expect((await buy(first, 'credits-1000')).body.sessionId).toBe(a.body.sessionId);
  });

  it('sells a plan to a Free organization mid-period: prorated charge and credits, newest payment first', async () => {
    const orgId = buyer.personalOrgId;
    // The buyer skips the trial: checkout straight away.
    const checkout = await api('POST', `/v1/orgs/${orgId}/checkout`, { token: buyer.accessToken, body: { planId: 'pro' } });
    expect(checkout.status).toBe(201);
    const before = await balance(buyer, orgId);
    await payCheckout(checkout.body.url);
    const sub = await eventually(
      () => api('GET', `/v1/orgs/${orgId}/subscription`, { token: buyer.accessToken }),
      (r) => r.body.planId === 'pro',
    );
    expect(sub.body).toMatchObject({ status: 'Active', paymentProvider: 'Stripe', effectivePlanId: 'pro' });
    expect(sub.body.paidThrough).toBe(sub.body.currentPeriodEnd);
    expect(await balance(buyer, orgId)).toBeGreaterThan(before + 1_800);
    const first = await api('GET', `/v1/orgs/${orgId}/payments?limit=1`, { token: buyer.accessToken });
    expect(first.body.items).toMatchObject([{ purpose: 'plan', planId: 'pro', status: 'succeeded' }]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await api('GET', `/v1/orgs/${orgId}/payments?limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`, {
      token: buyer.accessToken,
    });
    expect(second.body.items).toMatchObject([{ purpose: 'credit-pack' }]);
  });

  it('refuses a checkout that names both or neither, an unknown pack, the Free plan, or a viewer', async () => {
    const post = (body: object, token = owner.accessToken) => api('POST', `/v1/orgs/${teamId}/checkout`, { token, body });
    expect((await post({ planId: 'pro', packId: 'credits-1000' })).status).toBe(400);
    expect((await post({})).status).toBe(400);
    expect((await post({ packId: 'credits-7' })).status).toBe(404);
    expect((await post({ planId: 'free' })).status).toBe(422);
    expect((await post({ packId: 'credits-1000' }, viewer.accessToken)).status).toBe(403);
    expect((await api('GET', `/v1/orgs/${teamId}/payments`, { token: viewer.accessToken })).status).toBe(403);
  });
});

describe('the Stripe webhook', () => {
  it('refuses a forged, stale, missing or malformed signature with a 400 problem, changing nothing', async () => {
    const raw = event('payment_intent.succeeded', {
      id: 'pi_forged',
      amount: 100000,
      currency: 'usd',
      metadata: { orgId: teamId, kind: 'credit-pack', packId: 'credits-20000' },
    });
    const before = await balance(owner, teamId);
    const now = Math.floor(Date.now() / 1000);
    for (const signature of [
      signStripePayload(raw, 'whsec_guessed'),
      signStripePayload(raw, secret(), now - 301),
      `t=${now},v1=${'a'.repeat(64)}`,
      'garbage',
      undefined,
    ]) {
      const res = await webhook(raw, signature);
      expect(res.status, String(signature)).toBe(400);
      expect(res.body).toMatchObject({ status: 400, type: expect.stringContaining('validation-error') });
    }
    expect((await webhook(raw.replace('100000', '1'), signStripePayload(raw, secret()))).status).toBe(400);
    expect(await balance(owner, teamId)).toBe(before);
  });

  it('acknowledges an event once: a redelivery is recognised, an unknown type ignored, a body that is not an event refused', async () => {
    const raw = event('customer.created', { id: 'cus_1' });
    const first = await webhook(raw, signStripePayload(raw, secret()));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ received: true, outcome: 'ignored' });
    expect((await webhook(raw, signStripePayload(raw, secret()))).body.outcome).toBe('duplicate-event');
    const notEvent = '{"hello":"world"}';
    expect((await webhook(notEvent, signStripePayload(notEvent, secret()))).status).toBe(400);
  });

  it('refuses a signed invoice whose period no date can hold with a 400 (was a 500)', async () => {
    const metadata = { orgId: teamId, planId: 'pro' };
    const raw = event('invoice.paid', {
      id: `in_far${Date.now()}`,
      subscription: 'sub_far',
      payment_intent: `pi_far${Date.now()}`,
      amount_paid: 2000,
      currency: 'usd',
      subscription_details: { metadata },
      lines: { data: [{ metadata, period: { start: 1_800_000_000, end: 1e15 } }] },
    });
    const res = await webhook(raw, signStripePayload(raw, secret()));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ status: 400, type: expect.stringContaining('validation-error') });
  });

  it('acknowledges a signed pack payment for an organization that does not exist without applying it, twice', async () => {
    // Well-formed, so that the admin's look-up below reaches the organization check.
    const ghost = `org_doesnotexist${Date.now().toString(36).padStart(14, '0').slice(-14)}`;
    const raw = event('payment_intent.succeeded', {
      id: `pi_${ghost}`,
      amount: 15000,
      currency: 'usd',
      metadata: { orgId: ghost, kind: 'credit-pack', packId: 'credits-20000' },
    });
    const first = await webhook(raw, signStripePayload(raw, secret()));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      received: true,
      outcome: 'unknown-organization',
      ignored: expect.stringContaining(ghost),
    });
    const again = await webhook(raw, signStripePayload(raw, secret()));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ received: true, outcome: 'duplicate-event' });
    // A platform admin finds no such organization, nor anything billed to it.
    expect((await api('GET', `/v1/orgs/${ghost}/credits`, { token: admin.accessToken })).status).toBe(404);
  });

  it('acknowledges, without applying, a payment intent already recorded for another organization, and Stripe stops retrying', async () => {
    const intent = `pi_e2e_twice_${Date.now().toString(36)}`;
    const paid = (orgId: string) =>
      event('payment_intent.succeeded', {
        id: intent,
        amount: 1000,
        currency: 'usd',
        metadata: { orgId, kind: 'credit-pack', packId: 'credits-1000' },
      });
    const first = paid(buyer.personalOrgId);
    expect((await webhook(first, signStripePayload(first, secret()))).body.outcome).toBe('applied');
    const before = await balance(owner, teamId);
    const other = paid(teamId);
    const res = await webhook(other, signStripePayload(other, secret()));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      received: true,
      outcome: 'payment-of-another-organization',
      ignored: expect.stringContaining(teamId),
    });
    expect((await webhook(other, signStripePayload(other, secret()))).body.outcome).toBe('duplicate-event');
    expect(await balance(owner, teamId)).toBe(before);
    const payments = await api('GET', `/v1/orgs/${teamId}/payments`, { token: owner.accessToken });
    expect(payments.body.items.map((p: { paymentIntentId: string }) => p.paymentIntentId)).not.toContain(intent);
  });

  it('records, without crediting, a signed pack payment naming a pack not sold here, and Stripe stops retrying', async () => {
    const intent = `pi_e2e_nopack_${Date.now().toString(36)}`;
    const raw = event('payment_intent.succeeded', {
      id: intent,
      amount: 700,
      currency: 'usd',
      metadata: { orgId: teamId, kind: 'credit-pack', packId: 'credits-7' },
    });
    const before = await balance(owner, teamId);
    const res = await webhook(raw, signStripePayload(raw, secret()));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      received: true,
      outcome: 'unknown-credit-pack',
      ignored: expect.stringContaining('no credits were granted'),
    });
    expect((await webhook(raw, signStripePayload(raw, secret()))).body.outcome).toBe('duplicate-event');
    expect(await balance(owner, teamId)).toBe(before);
    // The money is not lost from sight: the payment is the organization's, for the operators to settle.
    const payments = await api('GET', `/v1/orgs/${teamId}/payments`, { token: owner.accessToken });
    expect(payments.body.items).toContainEqual(
      expect.objectContaining({ paymentIntentId: intent, purpose: 'credit-pack', packId: 'credits-7', status: 'succeeded' }),
    );
  });

  it('takes back a refunded pack’s share of credits, shows the refund on the payment and tells the owners', async () => {
    const { user: refunder, orgId, before, listed, paymentIntentId } = await packBought('pay-refunder');

    // A third of the 45.00 USD refunded from Stripe's dashboard: a third of the 5,000 credits (rounded down) go back with it.
    const refund = await stripeCall('/v1/refunds', { payment_intent: paymentIntentId, amount: '1500' });
    expect(refund.status).toBe(200);
    await eventually(
      () => balance(refunder, orgId),
      (b) => b === before + 5000 - 1666,
    );
    expect(await listed()).toMatchObject({
      paymentIntentId,
      status: 'succeeded',
      amountMinor: 4500,
      refundedMinor: 1500,
      creditsReclaimed: 1666,
      refundedAt: expect.any(String),
    });
    const rows = await api('GET', `/v1/orgs/${orgId}/credits/transactions?type=adjustment`, { token: refunder.accessToken });
    expect(rows.body.items).toMatchObject([
      { type: 'adjustment', amount: -1666, description: expect.stringContaining('refunded') },
    ]);
    expect(await waitForNotification(refunder, 'payment-refunded')).toMatchObject({
      message: expect.stringMatching(
        /15\.00 USD of the payment of 45\.00 USD .* is now refunded\. This refund took back 1666 credits/,
      ),
    });

    const stranger = event('charge.refunded', {
      id: 'ch_stranger',
      payment_intent: `${paymentIntentId}_x`,
      amount: 100,
      amount_refunded: 100,
    });
    // A payment not recorded (yet): a 409, for Stripe to deliver the refund again once its payment is in.
    const early = await webhook(stranger, signStripePayload(stranger, secret()));
    expect(early.status).toBe(409);
    expect(early.body.detail).toContain('not recorded as paid yet');
    // Three days on, Stripe has stopped retrying: acknowledged, with why.
    const late = JSON.stringify({
      ...JSON.parse(stranger),
      id: `${JSON.parse(stranger).id}_late`,
      created: Math.floor(Date.now() / 1000) - 260_000,
    });
    expect((await webhook(late, signStripePayload(late, secret()))).body).toMatchObject({
      outcome: 'unknown-payment',
      ignored: expect.stringContaining('not one recorded here'),
    });
  });

  it('takes back a pack’s credits when its dispute is lost, shows the dispute on the payment and tells the owners', async () => {
    const { user: disputer, orgId, before, listed, paymentIntentId } = await packBought('pay-disputer');

    // The cardholder's bank opens a dispute: the payment shows it, the credits stay while the bank decides.
    const opened = await stripeCall('/__local/disputes', { payment_intent: paymentIntentId, reason: 'fraudulent' });
    expect(opened.status).toBe(200);
    const { id: disputeId } = (await opened.json()) as { id: string };
    expect(await eventually(listed, (p) => p.disputeStatus === 'needs_response')).toMatchObject({
      disputeId,
      disputedMinor: 4500,
      disputeReason: 'fraudulent',
      disputedAt: expect.any(String),
    });
    expect(await balance(disputer, orgId)).toBe(before + 5000);
    expect(await waitForNotification(disputer, 'payment-disputed')).toMatchObject({
      title: 'Payment disputed',
      message: expect.stringMatching(/disputing the payment of 45\.00 USD for the credit pack credits-5000 \(fraudulent\)/),
    });
    // As at Stripe, a disputed charge is not refunded: its money is the bank's to give back.
    expect((await stripeCall('/v1/refunds', { payment_intent: paymentIntentId })).status).toBe(400);

    // The dispute accepted (lost): the whole pack's credits go back with the money.
    expect((await stripeCall(`/v1/disputes/${disputeId}/close`, {})).status).toBe(200);
    await eventually(
      () => balance(disputer, orgId),
      (b) => b === before,
    );
    expect(await listed()).toMatchObject({ paymentIntentId, disputeStatus: 'lost', creditsReclaimed: 5000 });
    const rows = await api('GET', `/v1/orgs/${orgId}/credits/transactions?type=adjustment`, { token: disputer.accessToken });
    expect(rows.body.items).toMatchObject([
      { type: 'adjustment', amount: -5000, description: expect.stringContaining('lost in a dispute') },
    ]);
    expect(await waitForNotification(disputer, 'payment-disputed', (n) => n.title === 'Payment dispute closed')).toMatchObject({
      message: expect.stringMatching(/closed for the cardholder: 45\.00 USD went back to the card\. It took back 5000 credits/),
    });
    // A closed dispute stays closed.
    expect((await stripeCall(`/v1/disputes/${disputeId}`, { 'evidence[uncategorized_text]': 'winning_evidence' })).status).toBe(
      400,
    );
  });

  it('the local Stripe answers an unknown or malformed dispute or subscription id with a 404, as Stripe does', async () => {
    for (const id of ['du_nope', '%E0%A4%A', '%']) {
      expect((await stripeCall(`/v1/disputes/${id}`, {})).status, id).toBe(404);
      expect((await stripeCall(`/v1/disputes/${id}/close`, {})).status, id).toBe(404);
      expect((await stripeCall(`/v1/subscriptions/${id.replace('du_', 'sub_')}`, {})).status, id).toBe(404);
    }
  });

  it('starts the grace period on a failed invoice and tells the owners', async () => {
    const orgId = buyer.personalOrgId;
    const sub = (await api('GET', `/v1/orgs/${orgId}/subscription`, { token: buyer.accessToken })).body;
    const metadata = { orgId, planId: 'pro' };
    expect(sub.providerSubscriptionId).toEqual(expect.any(String));
    const raw = event('invoice.payment_failed', {
      id: 'in_failed',
      subscription: sub.providerSubscriptionId,
      payment_intent: `pi_failed_${orgId}`,
      amount_due: 2000,
      currency: 'usd',
      subscription_details: { metadata },
      last_finalization_error: { message: 'Your card was declined.' },
      lines: {
        data: [
          {
            metadata,
            period: {
              start: Math.floor(Date.parse(sub.currentPeriodEnd) / 1000),
              end: Math.floor(Date.parse(sub.currentPeriodEnd) / 1000) + 2_592_000,
            },
          },
        ],
      },
    });
    expect((await webhook(raw, signStripePayload(raw, secret()))).body.outcome).toBe('applied');
    const after = (await api('GET', `/v1/orgs/${orgId}/subscription`, { token: buyer.accessToken })).body;
    expect(after.status).toBe('Active');
    expect(after.graceUntil).toEqual(expect.any(String));
    expect(await waitForNotification(buyer, 'payment-failed')).toMatchObject({
      message: expect.stringContaining('Your card was declined.'),
    });
  });

  it('keeps the payment method Stripe names on a paid invoice, then the one the subscription switches to, shown with the subscription', async () => {
    const user = await signUpUser('pay-method');
    const orgId = user.personalOrgId;
    const stripeSub = await paidOnStripe(user, 'pm_e2e_first');
    const read = async () => (await api('GET', `/v1/orgs/${orgId}/subscription`, { token: user.accessToken })).body;
    expect(await read()).toMatchObject({
      planId: 'pro',
      paymentProvider: 'Stripe',
      providerSubscriptionId: stripeSub,
      paymentMethodId: 'pm_e2e_first',
    });

    // The customer changes their card: Stripe tells it with the subscription.
    const switched = (paymentMethod: string | null) =>
      event('customer.subscription.updated', {
        id: stripeSub,
        object: 'subscription',
        status: 'active',
        cancel_at_period_end: false,
        default_payment_method: paymentMethod,
        metadata: { orgId },
      });
    const updated = switched('pm_e2e_second');
    expect((await webhook(updated, signStripePayload(updated, secret()))).body.outcome).toBe('applied');
    expect(await read()).toMatchObject({ providerSubscriptionId: stripeSub, paymentMethodId: 'pm_e2e_second' });
    // One that names none (the customer's default applies at Stripe) leaves the one known here.
    const unnamed = switched(null);
    expect((await webhook(unnamed, signStripePayload(unnamed, secret()))).body.outcome).toBe('applied');
    expect((await read()).paymentMethodId).toBe('pm_e2e_second');
  });
});

/** A Free organization moved to Pro by a signed `invoice.paid` of a new Stripe subscription; answers its id. */
async function paidOnStripe(user: SignedInUser, paymentMethod: string) {
  const orgId = user.personalOrgId;
  const sub = (await api('GET', `/v1/orgs/${orgId}/subscription`, { token: user.accessToken })).body;
  const stripeSub = `sub_e2e_${orgId.slice(-12)}`;
  const metadata = { orgId, planId: 'pro' };
  const raw = event('invoice.paid', {
    id: `in_e2e_${orgId.slice(-12)}`,
    object: 'invoice',
    subscription: stripeSub,
    payment_intent: `pi_e2e_method_${orgId.slice(-12)}`,
    default_payment_method: paymentMethod,
    amount_paid: 2000,
    amount_due: 2000,
    currency: 'usd',
    subscription_details: { metadata },
    lines: {
      data: [
        { metadata, period: { start: Math.floor(Date.now() / 1000), end: Math.floor(Date.parse(sub.currentPeriodEnd) / 1000) } },
      ],
    },
  });
  const res = await webhook(raw, signStripePayload(raw, secret()));
  expect(res.body).toMatchObject({ received: true, outcome: 'applied' });
  return stripeSub;
}

describe('payments recorded by a platform admin', () => {
  it('credit a PayPal pack once per reference, and are audited', async () => {
    const body = {
      provider: 'PayPal',
      reference: `CAPTURE-${teamId.slice(-8)}`,
      amountMinor: 1000,
      currency: 'USD',
      packId: 'credits-1000',
    };
    const before = await balance(owner, teamId);
    const first = await api('POST', `/v1/admin/orgs/${teamId}/payments`, { token: admin.accessToken, body });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ provider: 'PayPal', method: 'paypal', purpose: 'credit-pack', recordedBy: admin.userId });
    const again = await api('POST', `/v1/admin/orgs/${teamId}/payments`, { token: admin.accessToken, body });
    expect(again.status).toBe(200);
    expect(again.body.paymentId).toBe(first.body.paymentId);
    // The reference again with other terms is not this payment retried: a 409 that says what is recorded.
    for (const other of [{ amountMinor: 16000, packId: 'credits-20000' }, { amountMinor: 999 }, { currency: 'EUR' }]) {
      const conflict = await api('POST', `/v1/admin/orgs/${teamId}/payments`, {
        token: admin.accessToken,
        body: { ...body, ...other },
      });
      expect(conflict.status, JSON.stringify(other)).toBe(409);
      expect(conflict.body.detail).toBe('This reference is recorded as a payment of 1000 USD for credits-1000');
    }
    expect(await balance(owner, teamId)).toBe(before + 1000);
    const audit = await api('GET', `/v1/orgs/${teamId}/audit-events?action=payment.recorded`, { token: owner.accessToken });
    expect(audit.body.items).toHaveLength(1); // the repeat was the same payment, not a second one
    expect((await api('POST', `/v1/admin/orgs/${teamId}/payments`, { token: owner.accessToken, body })).status).toBe(403);
  });

  it('pay, during a trial, the month after the trial (which was free), as Stripe charges from the trial’s end', async () => {
    const user = await signUpUser('pay-trial-hand');
    const { orgId } = await createTeam(user);
    const trial = await api('PUT', `/v1/orgs/${orgId}/subscription`, { token: user.accessToken, body: { planId: 'pro' } });
    expect(trial.body).toMatchObject({ status: 'Trial', planId: 'pro' });
    const paid = await payByHand(orgId, `CAPTURE-TRIAL-${orgId.slice(-8)}`);
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    const sub = (await api('GET', `/v1/orgs/${orgId}/subscription`, { token: user.accessToken })).body;
    const monthAfterTrial = new Date(trial.body.trialEnd);
    monthAfterTrial.setUTCMonth(monthAfterTrial.getUTCMonth() + 1);
    expect(sub).toMatchObject({ status: 'Active', paidThrough: monthAfterTrial.toISOString() });
  });

  it('put a Stripe-billed plan on PayPal: the Stripe subscription is cancelled at once and its card goes, a billing agreement named with a plan’s payment shows', async () => {
    const user = await signUpUser('pay-method-paypal');
    const orgId = user.personalOrgId;
    const read = async () => (await api('GET', `/v1/orgs/${orgId}/subscription`, { token: user.accessToken })).body;
    const checkout = await api('POST', `/v1/orgs/${orgId}/checkout`, { token: user.accessToken, body: { planId: 'pro' } });
    expect(checkout.status, JSON.stringify(checkout.body)).toBe(201);
    await payCheckout(checkout.body.url);
    const onStripe = await eventually(read, (s) => s.paymentProvider === 'Stripe' && s.paidThrough === s.currentPeriodEnd);
    expect(onStripe.paymentMethodId).toMatch(/^pm_/);
    const pay = (reference: string, extra: object) => payByHand(orgId, reference, extra);

    // Claimed, cancelled at Stripe, recorded: within the request budget (api() counts).
    expect((await pay(`CAPTURE-A-${orgId.slice(-8)}`, { planId: 'pro' })).status).toBe(201);
    const onPayPal = await read();
    expect(onPayPal).toMatchObject({ planId: 'pro', status: 'Active', paymentProvider: 'PayPal' });
    expect({ stripe: onPayPal.providerSubscriptionId, method: onPayPal.paymentMethodId }).toEqual({
      stripe: undefined,
      method: undefined,
    });
    // Stripe charges no more: nothing here names its subscription, so nothing could cancel it later.
    expect((await stripeSubscriptions()).find((s) => s.id === onStripe.providerSubscriptionId)?.status).toBe('canceled');
    // The month Stripe was paid for stays paid; PayPal's pays the one after it.
    expect(onPayPal.paidThrough > onStripe.paidThrough).toBe(true);

    const agreement = `B-${orgId.slice(-12).toUpperCase()}`;
    expect((await pay(`CAPTURE-B-${orgId.slice(-8)}`, { planId: 'pro', paymentMethodId: agreement })).status).toBe(201);
    expect(await read()).toMatchObject({ paymentProvider: 'PayPal', paymentMethodId: agreement });
    // The next PayPal payment that names none leaves it.
    expect((await pay(`CAPTURE-C-${orgId.slice(-8)}`, { planId: 'pro' })).status).toBe(201);
    expect((await read()).paymentMethodId).toBe(agreement);

    // A credit pack changes no subscription: naming a payment method with it is a 400 saying so.
    const pack = await pay(`CAPTURE-D-${orgId.slice(-8)}`, { packId: 'credits-1000', paymentMethodId: 'B-OTHER' });
    expect(pack.status).toBe(400);
    expect(errorPaths(pack.body)).toContain('body.paymentMethodId');
    expect((await read()).paymentMethodId).toBe(agreement);
    // The owner's cancellation ends what is charged now, PayPal's plan, at the period end.
    const cancelled = await api('POST', `/v1/orgs/${orgId}/subscription/cancel`, { token: user.accessToken });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body).toMatchObject({ cancelAtPeriodEnd: true, paymentProvider: 'PayPal' });
  }, 40_000);

  it('for the month after the current one, end a cancellation or a cheaper plan set for the period end: the month paid is given', async () => {
    const [cancelling, downgrading] = await Promise.all([signUpUser('pay-hand-cancel'), signUpUser('pay-hand-downgrade')]);
    const read = async (user: SignedInUser) =>
      (await api('GET', `/v1/orgs/${user.personalOrgId}/subscription`, { token: user.accessToken })).body;
    const pay = (user: SignedInUser, reference: string, planId: string) =>
      payByHand(user.personalOrgId, `${reference}-${user.personalOrgId.slice(-10)}`, { planId });
    for (const [user, planId] of [
      [cancelling, 'pro'],
      [downgrading, 'team'],
    ] as const) {
      expect((await pay(user, 'CAPTURE-THIS', planId)).status).toBe(201);
      expect(await read(user)).toMatchObject({ planId, status: 'Active', paymentProvider: 'PayPal' });
    }
    // The owners set the plan to end with the period, or to move to a cheaper one then.
    const cancelled = await api('POST', `/v1/orgs/${cancelling.personalOrgId}/subscription/cancel`, {
      token: cancelling.accessToken,
    });
    expect(cancelled.body).toMatchObject({ cancelAtPeriodEnd: true });
    const downgraded = await api('PUT', `/v1/orgs/${downgrading.personalOrgId}/subscription`, {
      token: downgrading.accessToken,
      body: { planId: 'pro' },
    });
    expect(downgraded.body).toMatchObject({ planId: 'team', pendingPlanId: 'pro' });

    // Then each customer pays the next month of the plan they have, by PayPal after all.
    for (const [user, planId] of [
      [cancelling, 'pro'],
      [downgrading, 'team'],
    ] as const) {
      expect((await pay(user, 'CAPTURE-NEXT', planId)).status).toBe(201);
      const after = await read(user);
      expect(after.paidThrough > after.currentPeriodEnd, JSON.stringify(after)).toBe(true);
      expect(after).toMatchObject({ planId, status: 'Active', cancelAtPeriodEnd: false });
      expect({ cancelledAt: after.cancelledAt, pendingPlanId: after.pendingPlanId }).toEqual({
        cancelledAt: undefined,
        pendingPlanId: undefined,
      });
    }
  });

  it('put an organization on a plan billed through Odoo; a sale order belongs to one organization', async () => {
    const saleOrder = `SO-${teamId.slice(-10)}`;
    const res = await api('POST', `/v1/admin/orgs/${teamId}/payments`, {
      token: admin.accessToken,
      body: {
        provider: 'OdooManual',
        reference: `INV-${saleOrder}`,
        amountMinor: 9900,
        currency: 'USD',
        planId: 'team',
        odooSaleOrderId: saleOrder,
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const sub = (await api('GET', `/v1/orgs/${teamId}/subscription`, { token: owner.accessToken })).body;
    expect(sub).toMatchObject({ planId: 'team', status: 'Active', paymentProvider: 'OdooManual', odooSaleOrderId: saleOrder });
    expect(sub.paidThrough).toBe(sub.currentPeriodEnd);
    // The next period's invoice on the same sale order is fine; another organization using it is not.
    const next = await api('POST', `/v1/admin/orgs/${teamId}/payments`, {
      token: admin.accessToken,
      body: {
        provider: 'OdooManual',
        reference: `INV2-${saleOrder}`,
        amountMinor: 9900,
        currency: 'USD',
        planId: 'team',
        odooSaleOrderId: saleOrder,
      },
    });
    expect(next.status).toBe(201);
    const taken = await api('POST', `/v1/admin/orgs/${buyer.personalOrgId}/payments`, {
      token: admin.accessToken,
      body: {
        provider: 'OdooManual',
        reference: `INV3-${saleOrder}`,
        amountMinor: 9900,
        currency: 'USD',
        planId: 'team',
        odooSaleOrderId: saleOrder,
      },
    });
    expect(taken.status).toBe(409);
    expect(
      (await api('GET', `/v1/orgs/${buyer.personalOrgId}/payments`, { token: buyer.accessToken })).body.items,
    ).not.toContainEqual(expect.objectContaining({ odooSaleOrderId: saleOrder }));
    const missingOrder = await api('POST', `/v1/admin/orgs/${teamId}/payments`, {
      token: admin.accessToken,
      body: { provider: 'OdooManual', reference: 'INV-none', amountMinor: 100, currency: 'USD', packId: 'credits-1000' },
    });
    expect(missingOrder.status).toBe(400);
  });
});

describe('a late event of a Stripe subscription cancelled for a change here', () => {
  /** A team on Pro through checkout, billed by Stripe for the period under way. */
  async function stripeBilledTeam(user: SignedInUser) {
    const { orgId } = await createTeam(user);
    const path = `/v1/orgs/${orgId}/subscription`;
    const checkout = await api('POST', `/v1/orgs/${orgId}/checkout`, { token: user.accessToken, body: { planId: 'pro' } });
    expect(checkout.status, JSON.stringify(checkout.body)).toBe(201);
    await payCheckout(checkout.body.url);
    const onStripe = await eventually(
      () => api('GET', path, { token: user.accessToken }),
      (r) =>
        r.body.paymentProvider === 'Stripe' && !!r.body.providerSubscriptionId && r.body.paidThrough === r.body.currentPeriodEnd,
    );
    return { orgId, path, stripe: onStripe.body };
  }
  /** The Stripe subscription's `invoice.paid` for the period under way, delivered after its cancellation. */
  const lateInvoice = (orgId: string, stripe: Record<string, string>) => {
    const raw = event('invoice.paid', periodInvoice(stripe, orgId, 'pro', 2000, `e2e_late_${orgId.slice(-12)}`));
    return webhook(raw, signStripePayload(raw, secret()));
  };
  const payments = async (user: SignedInUser, orgId: string) =>
    (await api('GET', `/v1/orgs/${orgId}/payments`, { token: user.accessToken })).body.items as Array<{
      paymentIntentId: string;
    }>;

  it('is stale after a contract: the organization stays on Enterprise, invoiced outside, its payment recorded', async () => {
    const user = await signUpUser('pay-late-contract');
    const { orgId, path, stripe } = await stripeBilledTeam(user);
    const contract = await api('PUT', path, { token: admin.accessToken, body: { planId: 'enterprise' } });
    expect(contract.status, JSON.stringify(contract.body)).toBe(200);
    expect((await stripeSubscriptions()).find((s) => s.id === stripe.providerSubscriptionId)?.status).toBe('canceled');

    const late = await lateInvoice(orgId, stripe);
    expect(late.body).toMatchObject({ received: true, outcome: 'stale' });
    const after = (await api('GET', path, { token: user.accessToken })).body;
    expect({ planId: after.planId, provider: after.paymentProvider, stripe: after.providerSubscriptionId }).toEqual({
      planId: 'enterprise',
      provider: 'OdooManual',
      stripe: undefined,
    });
    expect((await payments(user, orgId)).map((p) => p.paymentIntentId)).toContain(`pi_e2e_late_${orgId.slice(-12)}`);
  }, 40_000);

  it('is stale after a plan paid by hand: the plan stays on PayPal, which its owner can still cancel', async () => {
    const user = await signUpUser('pay-late-paypal');
    const { orgId, path, stripe } = await stripeBilledTeam(user);
    const pay = await payByHand(orgId, `CAPTURE-LATE-${orgId.slice(-8)}`);
    expect(pay.status, JSON.stringify(pay.body)).toBe(201);

    expect((await lateInvoice(orgId, stripe)).body).toMatchObject({ received: true, outcome: 'stale' });
    const after = (await api('GET', path, { token: user.accessToken })).body;
    expect({ provider: after.paymentProvider, stripe: after.providerSubscriptionId }).toEqual({
      provider: 'PayPal',
      stripe: undefined,
    });
    // Nothing names the Stripe subscription that is gone: the cancellation is ours alone (not a 502 from Stripe).
    const cancelled = await api('POST', `/v1/orgs/${orgId}/subscription/cancel`, { token: user.accessToken });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body).toMatchObject({ cancelAtPeriodEnd: true, paymentProvider: 'PayPal' });
  }, 40_000);
});

describe('billing notifications and plan edits', () => {
  it('warn owners once when the credits fall below a tenth of the plan’s monthly grant', async () => {
    const user = await signUpUser('pay-low');
    const orgId = user.personalOrgId;
    const take = (amount: number) =>
      api('POST', `/v1/admin/orgs/${orgId}/credits/adjustments`, {
        token: admin.accessToken,
        body: { amount: -amount, reason: 'Spent' },
      });
    expect((await take(85)).status).toBe(201); // 15 left: above 10
    expect((await take(6)).status).toBe(201); // 9 left: crossed
    const warning = await waitForNotification(user, 'low-balance');
    expect(warning.message).toContain('9 credits are left');
    expect((await take(1)).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const all = (await api('GET', '/v1/me/notifications?limit=100', { token: user.accessToken })).body.items;
    expect(all.filter((n: { type: string }) => n.type === 'low-balance')).toHaveLength(1);
  });

  it('warn at a tenth of the plan in use after a plan is bought mid-period (Pro: below 200), not the old plan’s', async () => {
    const user = await signUpUser('pay-low-pro');
    const { orgId } = await createTeam(user);
    const checkout = await api('POST', `/v1/orgs/${orgId}/checkout`, { token: user.accessToken, body: { planId: 'pro' } });
    expect(checkout.status).toBe(201);
    await payCheckout(checkout.body.url);
    await eventually(
      () => api('GET', `/v1/orgs/${orgId}/subscription`, { token: user.accessToken }),
      (r) => r.body.planId === 'pro' && r.body.status === 'Active',
    );
    const available = await balance(user, orgId);
    expect(available).toBeGreaterThan(300);
    const take = await api('POST', `/v1/admin/orgs/${orgId}/credits/adjustments`, {
      token: admin.accessToken,
      body: { amount: -(available - 150), reason: 'Spent down to 150' },
    });
    expect(take.status).toBe(201);
    // 150 is above Free's 10 but below Pro's 200.
    const warning = await waitForNotification(user, 'low-balance');
    expect(warning).toMatchObject({ message: expect.stringContaining('150 credits are left (below 200)') });
  }, 40_000);

  it('audit a platform admin’s plan edit in the platform’s audit log', async () => {
    const since = Date.now() - 5_000;
    const res = await api('PUT', '/v1/admin/plans/pro', {
      token: admin.accessToken,
      body: { description: 'For individuals who create every day.' },
    });
    expect(res.status).toBe(200);
    // plans.test.ts edits plans at the same time: this admin's newest edit of Pro, not the log's newest edit.
    const audit = await platformAuditEvents(admin, 'pro', since, 'plan.updated');
    expect(audit.find((e) => e.actorId === admin.userId)).toMatchObject({
      action: 'plan.updated',
      targetId: 'pro',
      actorId: admin.userId,
      details: { changes: { description: 'For individuals who create every day.' } },
    });
    expect((await api('GET', '/v1/admin/audit-events', { token: owner.accessToken })).status).toBe(403);
  });
});

describe('the platform audit log', () => {
  it('refuses a cursor of another list with a 400', async () => {
    const cursor = Buffer.from(JSON.stringify({ pk: '$platform#orgid_org_x', sk: 'x' })).toString('base64url');
    const res = await api('GET', `/v1/admin/audit-events?cursor=${cursor}`, { token: admin.accessToken });
    expect(res.status).toBe(400);
  });
});
