import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetStripeConfig } from '@platform/domain/billing/stripe/config';
import { formEncode, paymentGateway } from '@platform/domain/billing/stripe/client';
import { verifyStripeSignature } from '@platform/domain/billing/stripe/signature';
import { startLocalStripe, type LocalStripe } from '@platform/local/stripe';
import { freePort } from '@platform/local/ports';

/**
 * The Stripe adapter against a fake Stripe on 127.0.0.1 (the local Stripe, started here):
 * what it sends, how it reads answers and refusals, and that the fake's webhooks carry
 * signatures our verifier accepts.
 */
const API_KEY = 'sk_test_adapter';
const WEBHOOK_SECRET = 'whsec_adapter';
let stripe: LocalStripe;
let receiver: Server;
const webhooks: Array<{ type: string; data: { object: Record<string, any> } }> = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      verifyStripeSignature(body, req.headers['stripe-signature'] as string, WEBHOOK_SECRET);
      webhooks.push(JSON.parse(body));
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  stripe = await startLocalStripe({ apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET, webhookUrl: () => receiverUrl });
  Object.assign(process.env, { STRIPE_API_BASE: stripe.url, STRIPE_API_KEY: API_KEY, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
  forgetStripeConfig();
});

afterAll(async () => {
  await stripe.stop();
  receiver.close();
});

const requests = async () =>
  (
    (await (await fetch(`${stripe.url}/__local/requests`)).json()) as {
      items: Array<{ method: string; path: string; params: Record<string, string> }>;
    }
  ).items;

/** A Pro plan checkout of `orgId` paid at the local Stripe (its webhooks received): the subscription's id. */
async function paidProSubscription(orgId: string): Promise<string> {
  const session = await paymentGateway.createCheckoutSession({
    orgId,
    kind: 'plan',
    planId: 'pro',
    name: 'Pro plan',
    amountMinor: 2000,
    currency: 'USD',
    successUrl: 'https://app.example/ok',
    cancelUrl: 'https://app.example/no',
  });
  expect((await fetch(session.url)).status).toBe(200);
  const paid = webhooks.find((w) => w.type === 'invoice.paid' && w.data.object.subscription_details.metadata.orgId === orgId);
  return paid!.data.object.subscription as string;
}

describe('the Stripe adapter', () => {
  it('encodes nested parameters as Stripe reads them', () => {
    expect(formEncode({ 'line_items[0][quantity]': 1, mode: 'payment', skipped: undefined })).toBe(
      'line_items%5B0%5D%5Bquantity%5D=1&mode=payment',
    );
  });

  it('creates a plan checkout renewing with our period, and a pack checkout whose payment intent names what it buys', async () => {
    const anchor = new Date(Date.now() + 10 * 86_400_000).toISOString();
    const plan = await paymentGateway.createCheckoutSession({
      orgId: 'org_1',
      kind: 'plan',
      planId: 'pro',
      name: 'Pro plan',
      amountMinor: 2000,
      currency: 'USD',
      successUrl: 'https://app.example/ok',
      cancelUrl: 'https://app.example/no',
      billingCycleAnchor: anchor,
      idempotencyKey: 'checkout:org_1:k1',
    });
    expect(plan.url).toBe(`${stripe.url}/checkout/${plan.sessionId}`);
    expect(plan.expiresAt).toEqual(expect.any(String));
    await paymentGateway.createCheckoutSession({
      orgId: 'org_1',
      kind: 'credit-pack',
      packId: 'credits-1000',
      name: '1,000 credits',
      amountMinor: 1000,
      currency: 'USD',
      successUrl: 'https://app.example/ok',
      cancelUrl: 'https://app.example/no',
    });
    const [planCall, packCall] = (await requests()).filter((r) => r.path === '/v1/checkout/sessions').slice(-2);
    expect(planCall!.params).toMatchObject({
      mode: 'subscription',
      'line_items[0][price_data][currency]': 'usd',
      'line_items[0][price_data][unit_amount]': '2000',
      'line_items[0][price_data][recurring][interval]': 'month',
      'metadata[orgId]': 'org_1',
      'metadata[kind]': 'plan',
      'subscription_data[metadata][planId]': 'pro',
      'subscription_data[billing_cycle_anchor]': String(Math.floor(Date.parse(anchor) / 1000)),
      'subscription_data[proration_behavior]': 'create_prorations',
      // Said in the session's metadata too: its completion may come after that day (webhooks.ts).
      'metadata[billingCycleAnchor]': anchor,
      client_reference_id: 'org_1',
    });
    expect(packCall!.params).toMatchObject({
      mode: 'payment',
      'payment_intent_data[metadata][packId]': 'credits-1000',
      'payment_intent_data[metadata][orgId]': 'org_1',
    });
    expect(packCall!.params).not.toHaveProperty('line_items[0][price_data][recurring][interval]');
  });

  it('pays a plan checkout with signed webhooks, then sets cancellation and swaps the price of that subscription', async () => {
    const subscriptionId = await paidProSubscription('org_2');
    expect(webhooks.map((w) => w.type)).toEqual(expect.arrayContaining(['checkout.session.completed', 'invoice.paid']));

    await paymentGateway.setCancelAtPeriodEnd(subscriptionId, true);
    await paymentGateway.changePrice(
      subscriptionId,
      { planId: 'team', name: 'Team plan', amountMinor: 9900, currency: 'USD' },
      true,
    );
    const calls = (await requests()).filter((r) => r.path === `/v1/subscriptions/${subscriptionId}`);
    expect(calls.map((c) => c.method)).toEqual(['POST', 'GET', 'POST']);
    expect(calls[0]!.params).toEqual({ cancel_at_period_end: 'true' });
    expect(calls[2]!.params).toMatchObject({
      'items[0][price_data][unit_amount]': '9900',
      'items[0][price_data][recurring][interval]': 'month',
      proration_behavior: 'always_invoice',
      'metadata[planId]': 'team',
    });
    expect(calls[2]!.params['items[0][id]']).toMatch(/^si_/);
  });

  it('cancels a subscription at once (DELETE), and answers one Stripe does not know with a 502', async () => {
    const subscriptionId = await paidProSubscription('org_3');
    await paymentGateway.cancelSubscription(subscriptionId);
    const calls = (await requests()).filter((r) => r.path === `/v1/subscriptions/${subscriptionId}`);
    expect(calls.map((c) => c.method)).toEqual(['DELETE']);
    const held = await fetch(`${stripe.url}/v1/subscriptions/${subscriptionId}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(await held.json()).toMatchObject({ status: 'canceled' });
    await expect(paymentGateway.cancelSubscription('sub_missing')).rejects.toMatchObject({ status: 502 });
    // What a webhook of a deleted organization asks: one Stripe does not have is as good as cancelled.
    await expect(paymentGateway.cancelSubscription('sub_missing', { ifExists: true })).resolves.toBeUndefined();
  });

  it('answers a refusal or an unreachable Stripe with a 502 problem, never a crash', async () => {
    await expect(paymentGateway.setCancelAtPeriodEnd('sub_missing', true)).rejects.toMatchObject({
      status: 502,
      message: expect.stringContaining('No such subscription'),
    });
    process.env.STRIPE_API_KEY = 'sk_test_wrong';
    forgetStripeConfig();
    await expect(paymentGateway.setCancelAtPeriodEnd('sub_x', true)).rejects.toMatchObject({
      status: 502,
      message: expect.stringContaining('Invalid API Key'),
    });
    process.env.STRIPE_API_BASE = `http://127.0.0.1:${await freePort()}`;
    forgetStripeConfig();
    await expect(paymentGateway.setCancelAtPeriodEnd('sub_x', true)).rejects.toMatchObject({ status: 502 });
    Object.assign(process.env, { STRIPE_API_BASE: stripe.url, STRIPE_API_KEY: API_KEY });
    forgetStripeConfig();
  });
});
