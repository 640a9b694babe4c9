import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { billingDb, ledgerDb, type Subscription } from '@platform/domain/billing/entities';
import { runSubscriptionJob } from '@platform/domain/billing/jobs';
import { debit, getBalance, periodGrantKey, release, reserve } from '@platform/domain/billing/ledger';
import { paymentDb } from '@platform/domain/billing/payment-entities';
import { recordManualPayment } from '@platform/domain/billing/payments';
import { planCatalogue } from '@platform/domain/billing/plans';
import { proratedCredits, prorationKey } from '@platform/domain/billing/proration';
import { paymentGateway } from '@platform/domain/billing/stripe/client';
import { signStripePayload } from '@platform/domain/billing/stripe/signature';
import { handleStripeWebhook } from '@platform/domain/billing/stripe/webhooks';
import * as changes from '@platform/domain/billing/subscription-changes';
import { addMonths, claimChange, commitChange, getSubscription, plusDays } from '@platform/domain/billing/subscription-store';
import { cancel, changePlan, resume } from '@platform/domain/billing/subscriptions';
import type { OrgAccess } from '@platform/domain/identity/access';
import { db, type Organization } from '@platform/domain/identity/entities';
import { deleteOrganization } from '@platform/domain/identity/organizations';
import { notificationDb } from '@platform/domain/notifications/entities';
import { clock } from '@platform/domain/shared/clock';
import { dynamo } from '@platform/domain/shared/dynamo';
import { put } from '@platform/domain/shared/transactions';
import { stripeCalls } from '../helpers/api.ts';
import { newBillingOrg, setSubscription } from '../helpers/billing.ts';

/**
 * Billing against DynamoDB Local: webhooks delivered twice and out of order, plan changes
 * racing, the schedules run twice, proration. Jobs run at the real "now" and only find the
 * subscriptions these tests dated in the past.
 */
const DAY = 86_400_000;
const HOUR = 3_600_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
const secs = (iso: string) => Math.floor(Date.parse(iso) / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const newOrg = (start = ago(10)) => newBillingOrg('billing', start);

async function ledger(orgId: string) {
  const { data } = await ledgerDb.transaction.query.byKey({ orgId }).go({ pages: 'all' });
  return data;
}

async function expectConsistent(orgId: string) {
  const [balance, rows] = await Promise.all([getBalance(orgId), ledger(orgId)]);
  expect(balance.balance).toBe(rows.reduce((sum, r) => sum + r.amount, 0));
  expect(balance.available).toBeGreaterThanOrEqual(0);
  return balance;
}

const orgPlan = async (orgId: string) => (await db.organization.get({ orgId }).go({ consistent: true })).data?.planId;

const secret = () => process.env.STRIPE_WEBHOOK_SECRET!;
function stripeEvent(type: string, object: Record<string, unknown>, created = Math.floor(Date.now() / 1000)) {
  return { id: `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type, created, data: { object } };
}
const deliver = (event: object) => {
  const raw = JSON.stringify(event);
  return handleStripeWebhook(raw, signStripePayload(raw, secret()));
};

function invoice(
  orgId: string,
  planId: string,
  options: { sub: string; intent: string | null; period: [string, string]; amount?: number },
) {
  const metadata = { orgId, planId };
  return {
    id: `in_${randomUUID().slice(0, 12)}`,
    object: 'invoice',
    subscription: options.sub,
    payment_intent: options.intent,
    amount_paid: options.amount ?? 2000,
    amount_due: options.amount ?? 2000,
    currency: 'usd',
    subscription_details: { metadata },
    lines: { data: [{ metadata, period: { start: secs(options.period[0]), end: secs(options.period[1]) } }] },
  };
}

describe('Stripe webhooks (DynamoDB Local)', () => {
  it('record an invoice paid once, delivered twice at once, again later, and as another event of the same payment', async () => {
    const orgId = await newOrg();
    const sub = await getSubscription(orgId);
    const paid = stripeEvent(
      'invoice.paid',
      invoice(orgId, 'pro', { sub: 'sub_A', intent: 'pi_A' + orgId, period: [new Date().toISOString(), sub.currentPeriodEnd] }),
    );
    const outcomes = await Promise.all([deliver(paid), deliver(paid)]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['applied', 'duplicate-event']);
    expect((await deliver(paid)).outcome).toBe('duplicate-event');
    expect((await deliver({ ...paid, id: `evt_other_${orgId}` })).outcome).toBe('payment-already-recorded');

    const after = await getSubscription(orgId);
    expect(after).toMatchObject({
      planId: 'pro',
      status: 'Active',
      paymentProvider: 'Stripe',
      providerSubscriptionId: 'sub_A',
      paidThrough: sub.currentPeriodEnd,
    });
    expect(after.version).toBe((sub.version ?? 0) + 1);
    expect(await orgPlan(orgId)).toBe('pro');
    const { data: payments } = await paymentDb.payment.query.byOrg({ orgId }).go();
    expect(payments).toMatchObject([
      { paymentIntentId: 'pi_A' + orgId, status: 'succeeded', amountMinor: 2000, currency: 'USD', purpose: 'plan' },
    ]);
    const prorations = (await ledger(orgId)).filter((r) => r.key.startsWith('prorate:'));
    expect(prorations).toHaveLength(1);
    expect(prorations[0]!.key).toBe(prorationKey(orgId, sub.currentPeriodStart, 'pro'));
    expect(prorations[0]!.amount).toBeGreaterThan(1_900 * 0.6); // about 20 of 30 days left
    await expectConsistent(orgId);
  });

  it('apply subscription events in order of creation: an older update arriving after a newer one changes nothing', async () => {
    const orgId = await newOrg();
    const { currentPeriodEnd } = await getSubscription(orgId);
    await deliver(
      stripeEvent(
        'invoice.paid',
        invoice(orgId, 'pro', { sub: 'sub_B', intent: `pi_B${orgId}`, period: [ago(0), currentPeriodEnd] }),
      ),
    );
    const t = Math.floor(Date.now() / 1000);
    const update = (created: number, cancel: boolean, id = 'sub_B') =>
      stripeEvent(
        'customer.subscription.updated',
        { id, object: 'subscription', status: 'active', cancel_at_period_end: cancel, metadata: { orgId, planId: 'pro' } },
        created,
      );
    expect((await deliver(update(t + 20, true))).outcome).toBe('applied');
    expect((await getSubscription(orgId)).cancelAtPeriodEnd).toBe(true);
    expect((await deliver(update(t + 10, false))).outcome).toBe('stale');
    expect((await getSubscription(orgId)).cancelAtPeriodEnd).toBe(true);
    // About a subscription that is no longer the organization's: nothing.
    expect((await deliver(update(t + 30, false, 'sub_old'))).outcome).toBe('ignored');
    const deletedOld = stripeEvent(
      'customer.subscription.deleted',
      { id: 'sub_old', status: 'canceled', metadata: { orgId } },
      t + 40,
    );
    expect((await deliver(deletedOld)).outcome).toBe('ignored');
    expect(await getSubscription(orgId)).toMatchObject({ status: 'Active', planId: 'pro', cancelAtPeriodEnd: true });
    // The newest word: the subscription ended at Stripe.
    const deleted = stripeEvent(
      'customer.subscription.deleted',
      { id: 'sub_B', status: 'canceled', metadata: { orgId } },
      t + 50,
    );
    expect((await deliver(deleted)).outcome).toBe('applied');
    expect(await getSubscription(orgId)).toMatchObject({ status: 'Cancelled', planId: 'free', cancelAtPeriodEnd: false });
    expect(await orgPlan(orgId)).toBe('free');
  });

  it('keep the payment method of the newest subscription event: an older one arriving late, or a stale invoice, changes nothing', async () => {
    const orgId = await newOrg();
    const { currentPeriodStart, currentPeriodEnd } = await getSubscription(orgId);
    const paid = invoice(orgId, 'pro', { sub: 'sub_M', intent: `pi_M${orgId}`, period: [ago(0), currentPeriodEnd] });
    expect((await deliver(stripeEvent('invoice.paid', { ...paid, default_payment_method: 'pm_invoice' }))).outcome).toBe(
      'applied',
    );
    expect(await getSubscription(orgId)).toMatchObject({ providerSubscriptionId: 'sub_M', paymentMethodId: 'pm_invoice' });

    const t = Math.floor(Date.now() / 1000);
    const update = (created: number, paymentMethod: string, type = 'customer.subscription.updated') =>
      stripeEvent(
        type,
        {
          id: 'sub_M',
          object: 'subscription',
          status: 'active',
          cancel_at_period_end: false,
          default_payment_method: paymentMethod,
          metadata: { orgId },
        },
        created,
      );
    // Checkout's subscription.created names the card it saved (Stripe may send it after the invoice).
    expect((await deliver(update(t + 5, 'pm_created', 'customer.subscription.created'))).outcome).toBe('applied');
    expect((await getSubscription(orgId)).paymentMethodId).toBe('pm_created');
    const newer = update(t + 20, 'pm_newer');
    expect((await deliver(newer)).outcome).toBe('applied');
    expect((await deliver(update(t + 10, 'pm_older'))).outcome).toBe('stale');
    expect((await deliver(newer)).outcome).toBe('duplicate-event');
    // An invoice of the period before this one, delivered late: recorded, and the card stays.
    const behind = invoice(orgId, 'pro', {
      sub: 'sub_M',
      intent: `pi_M_behind${orgId}`,
      period: [addMonths(currentPeriodStart, -1), currentPeriodStart],
    });
    expect((await deliver(stripeEvent('invoice.paid', { ...behind, default_payment_method: 'pm_behind' }))).outcome).toBe(
      'stale',
    );
    expect((await getSubscription(orgId)).paymentMethodId).toBe('pm_newer');
  });

  it('credit a pack once, whichever of payment_intent.succeeded and checkout.session.completed comes first', async () => {
    for (const order of [0, 1]) {
      const orgId = await newOrg();
      const intent = `pi_pack_${orgId}`;
      const metadata = { orgId, kind: 'credit-pack', packId: 'credits-1000' };
      const events = [
        stripeEvent('payment_intent.succeeded', { id: intent, amount: 1000, amount_received: 1000, currency: 'usd', metadata }),
        stripeEvent('checkout.session.completed', {
          id: `cs_${orgId}`,
          mode: 'payment',
          payment_status: 'paid',
          payment_intent: intent,
          amount_total: 1000,
          currency: 'usd',
          metadata,
        }),
      ];
      const [first, second] = order ? [events[1]!, events[0]!] : events;
      expect((await deliver(first!)).outcome).toBe('applied');
      expect((await deliver(second!)).outcome).toBe('payment-already-recorded');
      expect(await expectConsistent(orgId)).toMatchObject({ available: 1_100 });
      expect((await ledger(orgId)).filter((r) => r.type === 'purchase')).toMatchObject([
        { key: `payment:${intent}`, amount: 1000 },
      ]);
    }
  });

  it('take back a refunded pack’s credits in proportion, once per refunded total in any order, as far as credits are left', async () => {
    const orgId = await newOrg();
    const intent = `pi_refund_${orgId}`;
    const metadata = { orgId, kind: 'credit-pack', packId: 'credits-1000' };
    await deliver(stripeEvent('payment_intent.succeeded', { id: intent, amount: 1000, currency: 'usd', metadata }));
    expect(await expectConsistent(orgId)).toMatchObject({ available: 1_100 });
    const refunded = (total: number) =>
      stripeEvent('charge.refunded', { id: `ch_${orgId}`, payment_intent: intent, amount: 1000, amount_refunded: total });

    // Two partial refunds delivered at once, the first of them twice: whichever lands first, 600 of 1000 cents take 600 credits.
    const first = refunded(300);
    const outcomes = await Promise.all([deliver(first), deliver(refunded(600)), deliver(first)]);
    expect(outcomes.filter((o) => o.outcome === 'duplicate-event')).toHaveLength(1);
    expect(await expectConsistent(orgId)).toMatchObject({ available: 500 });
    expect((await deliver(refunded(600))).outcome).toBe('stale');
    expect((await paymentDb.payment.get({ paymentIntentId: intent }).go()).data).toMatchObject({
      status: 'succeeded',
      refundedMinor: 600,
      creditsReclaimed: 600,
    });

    // 450 of the 500 left are spent: the full refund takes back the other 50 of the 400 due, never going below zero.
    // The payment's success delivered again grants nothing again.
    const again = stripeEvent('payment_intent.succeeded', { id: intent, amount: 1000, currency: 'usd', metadata });
    expect((await deliver(again)).outcome).toBe('payment-already-recorded');
    expect(await expectConsistent(orgId)).toMatchObject({ available: 500 });
    await debit(orgId, `spent-${orgId}`, 450);
    expect(await deliver(refunded(1000))).toMatchObject({ outcome: 'applied', orgId });
    expect(await expectConsistent(orgId)).toMatchObject({ available: 0, reserved: 0 });
    // A total past the payment's amount is the whole of it, already recorded.
    expect((await deliver(refunded(1200))).outcome).toBe('stale');
    expect((await paymentDb.payment.get({ paymentIntentId: intent }).go()).data).toMatchObject({
      refundedMinor: 1000,
      creditsReclaimed: 650,
    });
    const takenBack = (await ledger(orgId)).filter((r) => r.key.startsWith(`payment:${intent}:refunded:`));
    expect(takenBack.map((r) => r.amount).reduce((a, b) => a + b)).toBe(-650);
    expect(takenBack.every((r) => r.type === 'adjustment')).toBe(true);
  });

  it('hold a refund back (409, for Stripe to deliver again) until its payment is recorded as paid, then apply it', async () => {
    const orgId = await newOrg();
    const intent = `pi_early_refund_${orgId}`;
    const metadata = { orgId, kind: 'credit-pack', packId: 'credits-1000' };
    const refund = stripeEvent('charge.refunded', {
      id: `ch_${orgId}`,
      payment_intent: intent,
      amount: 1000,
      amount_refunded: 1000,
    });
    // Before the payment's events (ours was down, Stripe retries them), and while it is recorded as failed (a card retried).
    await expect(deliver(refund)).rejects.toThrow(/not recorded as paid yet/);
    await deliver(stripeEvent('payment_intent.payment_failed', { id: intent, amount: 1000, currency: 'usd', metadata }));
    await expect(deliver(refund)).rejects.toThrow(/not recorded as paid yet/);
    await deliver(stripeEvent('payment_intent.succeeded', { id: intent, amount: 1000, currency: 'usd', metadata }));
    expect(await expectConsistent(orgId)).toMatchObject({ available: 1_100 });
    // Stripe's next delivery of the same event applies it.
    expect((await deliver(refund)).outcome).toBe('applied');
    expect(await expectConsistent(orgId)).toMatchObject({ available: 100 });
    expect((await paymentDb.payment.get({ paymentIntentId: intent }).go()).data).toMatchObject({ creditsReclaimed: 1000 });
  });

  it('hold a refund back for an hour while the credits it takes are held by calls in flight; past that, take what is there', async () => {
    for (const late of [false, true]) {
      const orgId = await newOrg();
      const intent = `pi_held_refund_${orgId}`;
      const metadata = { orgId, kind: 'credit-pack', packId: 'credits-1000' };
      await deliver(stripeEvent('payment_intent.succeeded', { id: intent, amount: 1000, currency: 'usd', metadata }));
      await reserve(orgId, `hold-${orgId}`, 1_050);
      const object = { id: `ch_${orgId}`, payment_intent: intent, amount: 1000, amount_refunded: 1000 };
      const refund = stripeEvent('charge.refunded', object, late ? secs(ago(61 / 1_440)) : undefined);
      if (late) {
        // An hour on, the calls held now came after the refund (an organization with steady traffic always has
        // some): the 50 credits available go, the rest stays with the calls, while Stripe still retries.
        expect((await deliver(refund)).outcome).toBe('applied');
        expect(await expectConsistent(orgId)).toMatchObject({ available: 0, reserved: 1_050 });
        continue;
      }
      await expect(deliver(refund)).rejects.toThrow(/950 of the 1000 credits this refund takes back are held by calls in flight/);
      expect(await expectConsistent(orgId)).toMatchObject({ available: 50, reserved: 1_050 });
      await release(orgId, `hold-${orgId}`);
      expect((await deliver(refund)).outcome).toBe('applied');
      expect(await expectConsistent(orgId)).toMatchObject({ available: 100, reserved: 0 });
    }
  });

  it('record a plan payment’s refund without touching credits or the plan; acknowledge a refund of no payment of ours, in time', async () => {
    const orgId = await newOrg();
    const sub = await getSubscription(orgId);
    const intent = `pi_plan_refund_${orgId}`;
    const period: [string, string] = [new Date().toISOString(), sub.currentPeriodEnd];
    await deliver(stripeEvent('invoice.paid', invoice(orgId, 'pro', { sub: 'sub_R', intent, period })));
    const before = await expectConsistent(orgId);
    const refund = stripeEvent('charge.refunded', { id: 'ch_plan', payment_intent: intent, amount: 2000, amount_refunded: 2000 });
    expect(await deliver(refund)).toMatchObject({ outcome: 'applied', orgId });
    expect((await deliver(refund)).outcome).toBe('duplicate-event');
    expect(await expectConsistent(orgId)).toEqual(before);
    expect(await getSubscription(orgId)).toMatchObject({ planId: 'pro', status: 'Active' });
    expect((await paymentDb.payment.get({ paymentIntentId: intent }).go()).data).toMatchObject({
      refundedMinor: 2000,
      creditsReclaimed: 0,
    });

    // Not ours (another environment on the same Stripe account): acknowledged once Stripe's three days of retries are over.
    const elsewhere = { id: 'ch_other', payment_intent: `pi_not_ours_${orgId}`, amount: 500, amount_refunded: 500 };
    await expect(deliver(stripeEvent('charge.refunded', elsewhere))).rejects.toThrow(/not recorded as paid yet/);
    expect((await deliver(stripeEvent('charge.refunded', elsewhere, secs(ago(3.1))))).outcome).toBe('unknown-payment');
    const noIntent = { id: 'ch_direct', payment_intent: null, amount: 500, amount_refunded: 500 };
    expect((await deliver(stripeEvent('charge.refunded', noIntent))).outcome).toBe('ignored');
    await expect(
      deliver(stripeEvent('charge.refunded', { id: 'ch_bad', payment_intent: intent, amount_refunded: -1 })),
    ).rejects.toThrow(/does not have the shape/);
  });

  it('follow a dispute in Stripe’s order: opened takes nothing, lost takes the rest of what the money bought, closed is final', async () => {
    const orgId = await newOrg();
    const intent = `pi_dispute_${orgId}`;
    const metadata = { orgId, kind: 'credit-pack', packId: 'credits-1000' };
    await deliver(stripeEvent('payment_intent.succeeded', { id: intent, amount: 1000, currency: 'usd', metadata }));
    await deliver(
      stripeEvent('charge.refunded', { id: `ch_${orgId}`, payment_intent: intent, amount: 1000, amount_refunded: 200 }),
    );
    expect(await expectConsistent(orgId)).toMatchObject({ available: 900 });
    const t0 = Math.floor(Date.now() / 1000);
    const disputed = (status: string, created: number) =>
      stripeEvent(
        status === 'needs_response' ? 'charge.dispute.created' : 'charge.dispute.updated',
        { id: `du_${orgId}`, charge: `ch_${orgId}`, payment_intent: intent, amount: 800, status, reason: 'fraudulent' },
        created,
      );

    // Opened, then under review: recorded, no credits taken. A review delivered after a later status changes nothing.
    const review = disputed('under_review', t0 - 5);
    expect(await deliver(disputed('needs_response', t0 - 10))).toMatchObject({ outcome: 'applied', orgId });
    expect(await deliver(disputed('warning_under_review', t0 - 1))).toMatchObject({ outcome: 'applied' });
    expect((await deliver(review)).outcome).toBe('stale');
    expect(await expectConsistent(orgId)).toMatchObject({ available: 900 });
    expect((await paymentDb.payment.get({ paymentIntentId: intent }).go()).data).toMatchObject({
      disputeId: `du_${orgId}`,
      disputeStatus: 'warning_under_review',
      disputedMinor: 800,
      disputeReason: 'fraudulent',
      creditsReclaimed: 200,
    });

    // Lost: 800 more of 1000 cents gone back, 800 more credits, as far as they are there (700: 200 are spent).
    await debit(orgId, `spent-${orgId}`, 200);
    const lost = stripeEvent('charge.dispute.closed', {
      id: `du_${orgId}`,
      payment_intent: intent,
      amount: 800,
      status: 'lost',
    });
    const outcomes = await Promise.all([deliver(lost), deliver(lost)]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['applied', 'duplicate-event']);
    expect(await expectConsistent(orgId)).toMatchObject({ available: 0 });
    // Closed is final: a status of the same dispute delivered late, or a refund total already covered, takes nothing more.
    expect((await deliver(disputed('under_review', t0 + 5))).outcome).toBe('stale');
    expect((await paymentDb.payment.get({ paymentIntentId: intent }).go()).data).toMatchObject({
      disputeStatus: 'lost',
      refundedMinor: 200,
      creditsReclaimed: 900,
    });
    const rows = (await ledger(orgId)).filter((r) => r.key === `payment:${intent}:dispute-lost`);
    expect(rows).toMatchObject([{ type: 'adjustment', amount: -700 }]);
  });

  it('take nothing for a dispute won, nor for a plan’s; hold one back until its payment is paid and its credits free', async () => {
    const orgId = await newOrg();
    const [won, held] = [`pi_won_${orgId}`, `pi_held_dispute_${orgId}`];
    const metadata = { orgId, kind: 'credit-pack', packId: 'credits-1000' };
    const dispute = (intent: string, status: string) =>
      stripeEvent(status === 'needs_response' ? 'charge.dispute.created' : 'charge.dispute.closed', {
        id: `du_${intent}`,
        payment_intent: intent,
        amount: 1000,
        status,
      });
    await deliver(stripeEvent('payment_intent.succeeded', { id: won, amount: 1000, currency: 'usd', metadata }));
    await deliver(dispute(won, 'needs_response'));
    expect(await deliver(dispute(won, 'won'))).toMatchObject({ outcome: 'applied' });
    expect((await deliver(dispute(won, 'lost'))).outcome).toBe('stale');
    expect(await expectConsistent(orgId)).toMatchObject({ available: 1_100 });

    // Not paid yet: 409 until it is. Then, its credits held by a call in flight: 409 until the call ends.
    const lost = dispute(held, 'lost');
    await expect(deliver(lost)).rejects.toThrow(/not recorded as paid yet/);
    await deliver(stripeEvent('payment_intent.succeeded', { id: held, amount: 1000, currency: 'usd', metadata }));
    await reserve(orgId, `hold-${orgId}`, 2_000);
    await expect(deliver(lost)).rejects.toThrow(/900 of the 1000 credits this dispute takes back are held by calls in flight/);
    await release(orgId, `hold-${orgId}`);
    expect((await deliver(lost)).outcome).toBe('applied');
    expect(await expectConsistent(orgId)).toMatchObject({ available: 1_100, reserved: 0 });

    // A plan's payment lost in a dispute: recorded, no credits and no plan change.
    const sub = await getSubscription(orgId);
    const plan = `pi_plan_dispute_${orgId}`;
    await deliver(
      stripeEvent(
        'invoice.paid',
        invoice(orgId, 'pro', { sub: 'sub_D', intent: plan, period: [new Date().toISOString(), sub.currentPeriodEnd] }),
      ),
    );
    const paid = await expectConsistent(orgId);
    expect(await deliver(dispute(plan, 'lost'))).toMatchObject({ outcome: 'applied' });
    expect(await expectConsistent(orgId)).toEqual(paid);
    expect(await getSubscription(orgId)).toMatchObject({ planId: 'pro', status: 'Active' });
    const noIntent = { id: 'du_direct', payment_intent: null, amount: 500, status: 'lost' };
    expect((await deliver(stripeEvent('charge.dispute.closed', noIntent))).outcome).toBe('ignored');
    await expect(
      deliver(stripeEvent('charge.dispute.closed', { id: 'du_bad', payment_intent: plan, amount: 'all', status: 'lost' })),
    ).rejects.toThrow(/does not have the shape/);
  });

  it('start the grace period on a failed invoice, end it when the same payment later succeeds, and ignore a late failure', async () => {
    const orgId = await newOrg();
    const { currentPeriodEnd } = await getSubscription(orgId);
    const intent = `pi_F${orgId}`;
    const period: [string, string] = [ago(0), currentPeriodEnd];
    await deliver(stripeEvent('invoice.paid', invoice(orgId, 'pro', { sub: 'sub_F', intent: `pi_first${orgId}`, period })));
    const renewal = invoice(orgId, 'pro', { sub: 'sub_F', intent, period: [currentPeriodEnd, addMonths(currentPeriodEnd, 1)] });
    expect((await deliver(stripeEvent('invoice.payment_failed', renewal))).outcome).toBe('applied');
    const failed = await getSubscription(orgId);
    expect(failed.status).toBe('Active');
    expect(Date.parse(failed.graceUntil!)).toBeGreaterThan(Date.now() + 6 * DAY);
    expect((await paymentDb.payment.get({ paymentIntentId: intent }).go()).data).toMatchObject({ status: 'failed' });

    expect((await deliver(stripeEvent('invoice.paid', renewal))).outcome).toBe('applied');
    const recovered = await getSubscription(orgId);
    expect(recovered.graceUntil).toBeUndefined();
    expect(recovered.paidThrough).toBe(addMonths(currentPeriodEnd, 1));
    expect((await deliver(stripeEvent('invoice.payment_failed', renewal))).outcome).toBe('payment-already-recorded');
    expect((await paymentDb.payment.get({ paymentIntentId: intent }).go()).data).toMatchObject({ status: 'succeeded' });
    expect((await getSubscription(orgId)).graceUntil).toBeUndefined();
  });
  it('record a late invoice.paid for a period already behind, and change nothing: a suspension stays, with no deadline lost', async () => {
    const orgId = await newOrg(ago(10));
    const sub = await setSubscription(orgId, {
      planId: 'pro',
      status: 'Suspended',
      paymentProvider: 'Stripe',
      providerSubscriptionId: 'sub_L',
      paidThrough: ago(10),
      suspendedAt: ago(1),
    });
    const previous: [string, string] = [addMonths(sub.currentPeriodStart, -1), sub.currentPeriodStart];
    const intent = `pi_late${orgId}`;
    const late = await deliver(stripeEvent('invoice.paid', invoice(orgId, 'pro', { sub: 'sub_L', intent, period: previous })));
    expect(late.outcome).toBe('stale');
    // The money is on record; the subscription is as it was (still Suspended, the same version).
    expect((await paymentDb.payment.get({ paymentIntentId: intent }).go()).data).toMatchObject({ status: 'succeeded', orgId });
    const after = await getSubscription(orgId);
    expect(after).toMatchObject({ status: 'Suspended', paidThrough: sub.paidThrough, version: sub.version });
    expect(await orgPlan(orgId)).toBe('free');
  });

  it('ignore a late invoice.payment_failed for a period already behind: a paid subscription starts no grace period', async () => {
    const orgId = await newOrg(ago(10));
    const sub = await setSubscription(orgId, { planId: 'pro', paymentProvider: 'Stripe', providerSubscriptionId: 'sub_P' });
    const current: [string, string] = [sub.currentPeriodStart, sub.currentPeriodEnd];
    await deliver(
      stripeEvent('invoice.paid', invoice(orgId, 'pro', { sub: 'sub_P', intent: `pi_cur${orgId}`, period: current })),
    );
    expect((await getSubscription(orgId)).paidThrough).toBe(sub.currentPeriodEnd);
    const previous: [string, string] = [addMonths(sub.currentPeriodStart, -1), sub.currentPeriodStart];
    const failed = invoice(orgId, 'pro', { sub: 'sub_P', intent: `pi_prev${orgId}`, period: previous });
    expect((await deliver(stripeEvent('invoice.payment_failed', failed))).outcome).toBe('stale');
    // The current period is paid too: a failure about it (a retried charge already collected) changes nothing either.
    const paidAlready = invoice(orgId, 'pro', { sub: 'sub_P', intent: `pi_cur2${orgId}`, period: current });
    expect((await deliver(stripeEvent('invoice.payment_failed', paidAlready))).outcome).toBe('stale');
    const after = await getSubscription(orgId);
    expect({ status: after.status, graceUntil: after.graceUntil }).toEqual({ status: 'Active', graceUntil: undefined });
  });

  it('change no plan for an invoice.paid of a Stripe subscription that is no longer the organization’s', async () => {
    const orgId = await newOrg(ago(10));
    const sub = await setSubscription(orgId, {
      planId: 'pro',
      paymentProvider: 'Stripe',
      providerSubscriptionId: 'sub_NEW',
      paidThrough: plusDays(ago(0), 25),
    });
    const current: [string, string] = [sub.currentPeriodStart, sub.currentPeriodEnd];
    const old = invoice(orgId, 'team', { sub: 'sub_OLD', intent: `pi_oldsub${orgId}`, period: current });
    expect((await deliver(stripeEvent('invoice.paid', old))).outcome).toBe('stale');
    expect(await getSubscription(orgId)).toMatchObject({
      planId: 'pro',
      providerSubscriptionId: 'sub_NEW',
      version: sub.version,
    });
    expect(await orgPlan(orgId)).toBe('pro');
  });

  it('apply two customer.subscription.updated events of the same second in order: the last word (resume) holds', async () => {
    const orgId = await newOrg(ago(10));
    await setSubscription(orgId, {
      planId: 'pro',
      paymentProvider: 'Stripe',
      providerSubscriptionId: 'sub_U',
      paidThrough: plusDays(ago(0), 25),
    });
    const t = Math.floor(Date.now() / 1000);
    const update = (cancel: boolean, created = t) =>
      stripeEvent(
        'customer.subscription.updated',
        {
          id: 'sub_U',
          object: 'subscription',
          status: 'active',
          cancel_at_period_end: cancel,
          metadata: { orgId, planId: 'pro' },
        },
        created,
      );
    expect((await deliver(update(true))).outcome).toBe('applied');
    expect((await deliver(update(false))).outcome).toBe('applied');
    expect((await getSubscription(orgId)).cancelAtPeriodEnd).toBe(false);
    // A second earlier is still older: it changes nothing.
    expect((await deliver(update(true, t - 1))).outcome).toBe('stale');
    expect((await getSubscription(orgId)).cancelAtPeriodEnd).toBe(false);
  });

  it('apply nothing for an organization that does not exist: no credits, no payment, no ledger, even delivered twice', async () => {
    // Shaped like an organization id (one that is not is no organization of ours at all: `ignored`).
    const ghost = `org_doesnotexist${randomUUID().replace(/-/g, '').slice(0, 14)}`;
    const intent = `pi_ghost_${ghost}`;
    const metadata = { orgId: ghost, kind: 'credit-pack', packId: 'credits-20000' };
    const pack = stripeEvent('payment_intent.succeeded', { id: intent, amount: 15000, currency: 'usd', metadata });
    const checkout = stripeEvent('checkout.session.completed', {
      id: `cs_${ghost}`,
      mode: 'payment',
      payment_status: 'paid',
      payment_intent: intent,
      amount_total: 15000,
      currency: 'usd',
      metadata,
    });
    const plan = stripeEvent(
      'invoice.paid',
      invoice(ghost, 'pro', { sub: 'sub_ghost', intent: `pi_plan_${ghost}`, period: [ago(0), addMonths(ago(0), 1)] }),
    );
    for (const event of [pack, checkout, plan]) {
      expect(await deliver(event)).toMatchObject({ outcome: 'unknown-organization', orgId: ghost });
      expect((await deliver(event)).outcome).toBe('duplicate-event');
      expect((await paymentDb.event.get({ provider: 'Stripe', eventId: event.id }).go()).data).toMatchObject({
        orgId: ghost,
        outcome: 'unknown-organization',
      });
    }
    expect(await getBalance(ghost)).toMatchObject({ available: 0, reserved: 0 });
    expect(await ledger(ghost)).toEqual([]);
    expect((await ledgerDb.account.get({ orgId: ghost }).go()).data).toBeNull();
    expect((await paymentDb.payment.get({ paymentIntentId: intent }).go()).data).toBeNull();
    expect((await paymentDb.payment.query.byOrg({ orgId: ghost }).go()).data).toEqual([]);
    expect((await billingDb.subscription.get({ orgId: ghost }).go()).data).toBeNull();
  });
});

/** An owner's access to an organization's billing, as authorization would give it (with what it read along). */
const accessTo = (orgId: string, preloaded?: unknown[]): OrgAccess =>
  ({
    orgId,
    preloaded,
    org: { orgId } as never,
    caller: { kind: 'user', userId: randomUUID(), groups: [], isPlatformAdmin: false },
    permissions: new Set(['billing:manage']),
    actorId: 'u',
    actorType: 'user',
  }) as OrgAccess;

describe('plan changes under concurrency (DynamoDB Local)', () => {
  it('let exactly one of concurrent changes win; the others get 409 or find it done, and credits are granted once', async () => {
    const orgId = await newOrg();
    const before = await getSubscription(orgId);
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => changePlan(accessTo(orgId), 'pro')));
    for (const o of outcomes) {
      if (o.status === 'rejected') expect(o.reason).toMatchObject({ status: 409 });
      else expect(o.value).toMatchObject({ planId: 'pro', status: 'Trial' });
    }
    expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
    const after = await getSubscription(orgId);
    expect(after).toMatchObject({ planId: 'pro', status: 'Trial' });
    expect(after.version).toBe(before.version! + 1);
    expect(
      (await ledger(orgId)).filter((r) => r.key === periodGrantKey(orgId, after.planId, after.currentPeriodStart)),
    ).toHaveLength(1);
    expect(await orgPlan(orgId)).toBe('pro');
    await expectConsistent(orgId);
  });

  it('refuse the second of two changes made from the same read (optimistic concurrency)', async () => {
    const orgId = await newOrg();
    const read = await getSubscription(orgId);
    const [a, b] = await Promise.all([
      commitChange({ prev: read, next: { ...read, cancelAtPeriodEnd: true } }),
      commitChange({ prev: read, next: { ...read, pendingPlanId: 'pro' } }),
    ]);
    expect([a.ok, b.ok].sort()).toEqual([false, true]);
    expect([a, b].find((o) => !o.ok)).toEqual({ ok: false, failed: 'subscription' });
  });
});

describe('plan changes made at Stripe first (DynamoDB Local)', () => {
  // The local Stripe has no such subscription: a change that called it would fail with 502, not 409.
  const onStripeTeam = async () => {
    const orgId = await newOrg();
    const sub = await setSubscription(orgId, {
      planId: 'team',
      paymentProvider: 'Stripe',
      providerSubscriptionId: `sub_nowhere_${orgId}`,
      paidThrough: plusDays(ago(0), 25),
    });
    return { orgId, sub };
  };

  it('refuse (409) a change racing one that claimed the subscription, before calling Stripe; nothing else commits meanwhile', async () => {
    const { orgId, sub: read } = await onStripeTeam();
    const claimed = await claimChange(read);
    // Read before the claim (stale) or after it: refused either way, and Stripe never called (502).
    await expect(changePlan(accessTo(orgId, [read]), 'pro')).rejects.toMatchObject({ status: 409 });
    await expect(cancel(accessTo(orgId))).rejects.toMatchObject({ status: 409 });
    // A webhook or a job reading it now cannot commit under the live claim either.
    const meanwhile = await getSubscription(orgId);
    expect(await commitChange({ prev: meanwhile, next: { ...meanwhile, cancelAtPeriodEnd: true } })).toEqual({
      ok: false,
      failed: 'subscription',
    });
    // The claimant commits its change, which ends the claim.
    expect((await commitChange({ prev: claimed, claimed: true, next: { ...claimed, pendingPlanId: 'pro' } })).ok).toBe(true);
    const after = await getSubscription(orgId);
    expect(after).toMatchObject({ planId: 'team', pendingPlanId: 'pro', cancelAtPeriodEnd: false });
    expect(after.claimedUntil).toBeUndefined();
    // A change Stripe refuses gives its claim back: nothing changed, and the next change goes ahead.
    await expect(cancel(accessTo(orgId))).rejects.toMatchObject({ status: 502 });
    const refused = await getSubscription(orgId);
    expect({ pending: refused.pendingPlanId, claim: refused.claimedUntil }).toEqual({ pending: 'pro', claim: undefined });
    expect((await commitChange({ prev: refused, next: { ...refused, pendingPlanId: undefined } })).ok).toBe(true);
  });
});

describe('Stripe billing taken over by a payment by hand or a contract (DynamoDB Local)', () => {
  /** A platform admin's access, as authorization gives it on an organization they are not in. */
  const adminOf = (orgId: string): OrgAccess =>
    ({
      ...accessTo(orgId),
      caller: { kind: 'user', userId: randomUUID(), groups: ['admin'], isPlatformAdmin: true },
    }) as OrgAccess;

  it('stops at Stripe first: Stripe refusing to cancel is a 502, nothing is recorded or changed, and the claim is given back', async () => {
    const orgId = await newOrg();
    // The local Stripe has no such subscription: its cancellation fails (404, answered 502).
    const before = await setSubscription(orgId, {
      planId: 'pro',
      paymentProvider: 'Stripe',
      providerSubscriptionId: `sub_nowhere_${orgId}`,
      paymentMethodId: 'pm_nowhere',
      paidThrough: plusDays(ago(0), 20),
    });
    const balance = await getBalance(orgId);
    const reference = `CAP-NOWHERE-${orgId.slice(-10)}`;
    const payment = { provider: 'PayPal', reference, amountMinor: 2000, currency: 'USD', planId: 'pro' } as const;
    await expect(recordManualPayment(adminOf(orgId), payment)).rejects.toMatchObject({ status: 502 });
    await expect(changePlan(adminOf(orgId), 'enterprise')).rejects.toMatchObject({ status: 502 });
    const after = await getSubscription(orgId);
    const kept = (sub: Subscription) => {
      const { planId, status, paymentProvider, providerSubscriptionId, paymentMethodId, paidThrough } = sub;
      return { planId, status, paymentProvider, providerSubscriptionId, paymentMethodId, paidThrough };
    };
    expect(kept(after)).toEqual(kept(before));
    expect(after.claimedUntil).toBeUndefined();
    expect((await paymentDb.payment.get({ paymentIntentId: `paypal:${reference}` }).go()).data).toBeNull();
    expect(await getBalance(orgId)).toEqual(balance);
    expect(await orgPlan(orgId)).toBe('pro');
  });

  it('a contract put on a suspended subscription applies at once: Active, the suspension and the cancellation over', async () => {
    const orgId = await newOrg();
    await setSubscription(orgId, {
      planId: 'team',
      status: 'Suspended',
      paymentProvider: 'PayPal',
      paymentMethodId: 'B-AGREEMENT',
      suspendedAt: ago(2),
      cancelAtPeriodEnd: true,
    });
    expect(await orgPlan(orgId)).toBe('free');
    const next = await changePlan(adminOf(orgId), 'enterprise');
    expect(next).toMatchObject({
      planId: 'enterprise',
      status: 'Active',
      paymentProvider: 'OdooManual',
      cancelAtPeriodEnd: false,
    });
    // Billed outside from now on: none of PayPal's payment method, nothing overdue.
    expect({ suspendedAt: next.suspendedAt, graceUntil: next.graceUntil, method: next.paymentMethodId }).toEqual({
      suspendedAt: undefined,
      graceUntil: undefined,
      method: undefined,
    });
    expect(await getSubscription(orgId)).toEqual(next);
    expect(await orgPlan(orgId)).toBe('enterprise');
    const { data: due } = await billingDb.due.query.byOrg({ orgId }).go();
    expect(due.map((d) => [d.kind, d.dueAt])).toEqual([['renewal', next.currentPeriodEnd]]);
    await expectConsistent(orgId);
  });

  it('remembers the Stripe subscriptions it cancelled (the last ten): their late invoices are stale, a new one’s still applies', async () => {
    const orgId = await newOrg();
    // As a contract put on over a Stripe subscription, then an earlier one's, leave it (`endedAtStripe`).
    const billed = (id: string) => ({ planId: 'pro', paymentProvider: 'Stripe' as const, providerSubscriptionId: id });
    let sub = await getSubscription(orgId);
    for (let i = 0; i < 12; i++) sub = changes.endedAtStripe({ ...sub, ...billed(`sub_ended_${i}`) }, sub);
    expect(sub.endedProviderSubscriptionIds).toEqual(Array.from({ length: 10 }, (_, i) => `sub_ended_${11 - i}`));
    const contract = await setSubscription(orgId, {
      planId: 'enterprise',
      paymentProvider: 'OdooManual',
      endedProviderSubscriptionIds: sub.endedProviderSubscriptionIds,
    });
    const period: [string, string] = [contract.currentPeriodStart, contract.currentPeriodEnd];
    const late = invoice(orgId, 'pro', { sub: 'sub_ended_11', intent: `pi_late_${orgId}`, period });
    expect((await deliver(stripeEvent('invoice.paid', late))).outcome).toBe('stale');
    expect(await getSubscription(orgId)).toMatchObject({ planId: 'enterprise', paymentProvider: 'OdooManual' });
    expect((await paymentDb.payment.get({ paymentIntentId: `pi_late_${orgId}` }).go()).data).toMatchObject({
      status: 'succeeded',
    });
    // A Stripe subscription never on file may be a new one's, its invoice ahead of its checkout's completion.
    const fresh = invoice(orgId, 'pro', { sub: `sub_new_${orgId}`, intent: `pi_new_${orgId}`, period });
    expect((await deliver(stripeEvent('invoice.paid', fresh))).outcome).toBe('applied');
    expect(await getSubscription(orgId)).toMatchObject({ paymentProvider: 'Stripe', providerSubscriptionId: `sub_new_${orgId}` });
  });
});

describe('what a change answers (DynamoDB Local)', () => {
  it('is the subscription as stored, to the millisecond: a commit, a claim, and the commit that ends it, at the domain’s time', async () => {
    const orgId = await newOrg();
    const read = await getSubscription(orgId);
    await sleep(5); // a change's time differs from the creation's
    const committed = await commitChange({ prev: read, next: { ...read, cancelAtPeriodEnd: true } });
    expect(committed.ok).toBe(true);
    const afterCommit = await getSubscription(orgId);
    expect(committed.ok && committed.next).toEqual(afterCommit);
    expect(afterCommit.updatedAt! > read.updatedAt!).toBe(true);

    await sleep(5);
    const claimed = await claimChange(afterCommit);
    const afterClaim = await getSubscription(orgId);
    expect(claimed).toEqual(afterClaim);
    expect(afterClaim.updatedAt! > afterCommit.updatedAt!).toBe(true);

    // The time is the domain's (`clock`), as every other date of the subscription is.
    clock.advance(HOUR);
    try {
      const ended = await commitChange({ prev: claimed, claimed: true, next: { ...claimed, cancelAtPeriodEnd: false } });
      expect(ended.ok).toBe(true);
      const afterEnd = await getSubscription(orgId);
      expect(ended.ok && ended.next).toEqual(afterEnd);
      expect(Date.parse(afterEnd.updatedAt!)).toBeGreaterThanOrEqual(Date.now() + HOUR - 60_000);
    } finally {
      clock.reset();
    }
  });
});

describe('the billing schedules (DynamoDB Local)', () => {
  it('renew a period once and grant it once, however often and however concurrently the job runs', async () => {
    const orgId = await newOrg(ago(40)); // its first period ended ten days ago
    const before = await getSubscription(orgId);
    const reports = await Promise.all([runSubscriptionJob('renewal'), runSubscriptionJob('renewal')]);
    await runSubscriptionJob('renewal');
    for (const report of reports) expect(report.failed).toEqual([]);
    const after = await getSubscription(orgId);
    expect(after.currentPeriodStart).toBe(before.currentPeriodEnd);
    expect(after.currentPeriodEnd).toBe(addMonths(before.currentPeriodEnd, 1));
    const grants = (await ledger(orgId)).filter((r) => r.type === 'grant');
    expect(grants.map((g) => g.key).sort()).toEqual(
      [
        periodGrantKey(orgId, before.planId, before.currentPeriodStart),
        periodGrantKey(orgId, after.planId, after.currentPeriodStart),
      ].sort(),
    );
    expect(await expectConsistent(orgId)).toMatchObject({ available: 200 });
  });

  it('catch up several missed periods one by one, and apply a scheduled downgrade at the period end', async () => {
    const behind = await newOrg(ago(95)); // three periods ended
    const downgrading = await newOrg(ago(35));
    await setSubscription(downgrading, {
      planId: 'team',
      pendingPlanId: 'pro',
      paymentProvider: 'Stripe',
      paidThrough: plusDays(ago(0), 400),
    });
    await runSubscriptionJob('renewal');
    await runSubscriptionJob('renewal');
    expect((await ledger(behind)).filter((r) => r.type === 'grant')).toHaveLength(4);
    expect(Date.parse((await getSubscription(behind)).currentPeriodEnd)).toBeGreaterThan(Date.now());
    expect(await getSubscription(downgrading)).toMatchObject({ planId: 'pro', status: 'Active' });
    expect((await getSubscription(downgrading)).pendingPlanId).toBeUndefined();
    expect(await orgPlan(downgrading)).toBe('pro');
    const latest = (await ledger(downgrading)).filter((r) => r.type === 'grant').sort((a, b) => a.key.localeCompare(b.key));
    expect(latest.map((g) => g.amount)).toContain(2_000);
  });

  it('end a cancelled period, an unpaid trial, a grace period and a long suspension, each once', async () => {
    const [cancelling, trial, grace, suspended] = await Promise.all([newOrg(ago(35)), newOrg(), newOrg(), newOrg()]);
    await setSubscription(cancelling, { planId: 'pro', cancelAtPeriodEnd: true, paidThrough: plusDays(ago(0), 30) });
    await setSubscription(trial, {
      planId: 'pro',
      status: 'Trial',
      trialStart: ago(14),
      trialEnd: ago(0.01),
      currentPeriodStart: ago(14),
      currentPeriodEnd: ago(0.01),
    });
    await setSubscription(grace, { planId: 'pro', graceUntil: ago(0.01) });
    await setSubscription(suspended, { planId: 'pro', status: 'Suspended', suspendedAt: ago(31) });
    for (let run = 0; run < 2; run++)
      for (const job of ['cancellation', 'trial-end', 'grace-end', 'expiry'] as const)
        expect((await runSubscriptionJob(job)).failed).toEqual([]);

    expect(await getSubscription(cancelling)).toMatchObject({ status: 'Cancelled', planId: 'free', cancelAtPeriodEnd: false });
    expect(await getSubscription(trial)).toMatchObject({ status: 'Expired', planId: 'free' });
    expect(await getSubscription(grace)).toMatchObject({ status: 'Suspended', planId: 'pro' });
    expect(await getSubscription(suspended)).toMatchObject({ status: 'Expired', planId: 'free' });
    for (const orgId of [cancelling, trial, grace, suspended]) expect(await orgPlan(orgId)).toBe('free');
    // Back on Free with its credits for the new period, once.
    for (const orgId of [cancelling, trial]) {
      const sub = await getSubscription(orgId);
      expect(
        (await ledger(orgId)).filter((r) => r.key === periodGrantKey(orgId, sub.planId, sub.currentPeriodStart)),
      ).toMatchObject([{ amount: 100 }]);
    }
    // Nothing is due any more: a third run finds none of them.
    const { data: markers } = await billingDb.due.query.byOrg({ orgId: grace }).go();
    expect(markers.map((m) => m.kind).sort()).toEqual(['expiry', 'renewal']);
  });

  it('suspend, while catching up, a paid plan whose grace ended before its next period: later periods get Free’s credits, and it expires 30 days after its grace', async () => {
    const orgId = await newOrg(ago(95)); // three periods ended; Pro paid for the first only
    const first = await getSubscription(orgId);
    await setSubscription(orgId, { planId: 'pro', paymentProvider: 'PayPal', paidThrough: first.currentPeriodEnd });
    for (let run = 0; run < 2; run++)
      for (const job of ['renewal', 'grace-end', 'expiry'] as const) expect((await runSubscriptionJob(job)).failed).toEqual([]);
    // The grace ended 7 days into the second period, about 57 days ago: suspended since, it has expired (on Free).
    const sub = await getSubscription(orgId);
    expect(Date.now() - Date.parse(plusDays(first.currentPeriodEnd, 7))).toBeGreaterThan(31 * DAY);
    expect(sub).toMatchObject({ status: 'Expired', planId: 'free' });
    expect(await orgPlan(orgId)).toBe('free');
    // Pro's credits for the one period its grace covered (the second); the grace ended 7 days in, so Free's after it.
    const second = first.currentPeriodEnd;
    const third = addMonths(second, 1);
    const grants = (await ledger(orgId)).filter((r) => r.type === 'grant').sort((a, b) => a.key.localeCompare(b.key));
    expect(grants.map((g) => [g.key, g.amount])).toEqual(
      [
        [periodGrantKey(orgId, 'free', first.currentPeriodStart), 100],
        [periodGrantKey(orgId, 'pro', second), 2_000],
        [periodGrantKey(orgId, 'free', third), 100],
        [periodGrantKey(orgId, 'free', addMonths(third, 1)), 100],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect(sub.currentPeriodStart).toBe(addMonths(third, 1));
    await expectConsistent(orgId);
  });

  it('carry out a cancellation asked for during the grace period after the grace ends (Suspended)', async () => {
    const orgId = await newOrg(ago(35)); // its period ended about five days ago
    await setSubscription(orgId, { planId: 'pro', paymentProvider: 'PayPal', graceUntil: ago(0.01), cancelAtPeriodEnd: true });
    expect((await runSubscriptionJob('grace-end')).failed).toEqual([]);
    expect(await getSubscription(orgId)).toMatchObject({ status: 'Suspended', cancelAtPeriodEnd: true });
    for (const job of ['renewal', 'cancellation'] as const) expect((await runSubscriptionJob(job)).failed).toEqual([]);
    expect(await getSubscription(orgId)).toMatchObject({ status: 'Cancelled', planId: 'free', cancelAtPeriodEnd: false });
    expect(await orgPlan(orgId)).toBe('free');
  });
});

describe('proration (DynamoDB Local)', () => {
  it('during a trial counts the time left as a share of a month: a richer plan bought then grants its trial’s share, no more', async () => {
    const orgId = await newOrg();
    const trial = await changePlan(accessTo(orgId), 'pro'); // 14 days, credited 14/30 or so of Pro's 2,000
    const trialMs = Date.parse(trial.trialEnd!) - Date.parse(trial.trialStart!);
    const monthShare = trialMs / (Date.parse(addMonths(trial.trialStart!, 1)) - Date.parse(trial.trialStart!));
    const checkout = {
      id: `cs_t_${orgId.slice(-10)}`,
      mode: 'subscription',
      payment_status: 'no_payment_required', // Stripe charges Team from the trial's end
      subscription: `sub_trialteam_${orgId.slice(-8)}`,
      metadata: { orgId, kind: 'plan', planId: 'team' },
    };
    expect((await deliver(stripeEvent('checkout.session.completed', checkout))).outcome).toBe('applied');
    const prorated = (await ledger(orgId)).find((r) => r.key === prorationKey(orgId, trial.currentPeriodStart, 'team'));
    // (10,000 − 2,000) × the trial's share of a month (not × the whole difference, as if the trial were a month).
    expect(prorated?.amount).toBeLessThanOrEqual(Math.floor(8_000 * monthShare));
    expect(prorated?.amount).toBeGreaterThan(Math.floor(8_000 * monthShare) - 10);
    await expectConsistent(orgId);
  });

  it('grants the difference of monthly credits times the share of the period left, once however often it is applied', async () => {
    const orgId = await newOrg(ago(10));
    const onPro = await setSubscription(orgId, { planId: 'pro', paymentProvider: 'Stripe', providerSubscriptionId: 'sub_P' });
    const plans = await planCatalogue();
    const now = new Date();
    const upgrade = changes.upgradeNow(onPro, plans.get('team')!, { plans, now });
    const expected = proratedCredits(2_000, 10_000, { start: onPro.currentPeriodStart, end: onPro.currentPeriodEnd }, now);
    expect(upgrade.grants).toMatchObject([{ key: prorationKey(orgId, onPro.currentPeriodStart, 'team'), amount: expected }]);
    expect(expected).toBeGreaterThan(8_000 * 0.6);
    expect(expected).toBeLessThan(8_000 * 0.72);
    expect((await commitChange({ prev: onPro, ...upgrade })).ok).toBe(true);
    // The same grant again (a retried change): the subscription lists it as credited, nothing more is granted.
    const onTeam = await getSubscription(orgId);
    expect(onTeam.periodGrants).toEqual([periodGrantKey(orgId, 'free', onPro.currentPeriodStart), upgrade.grants[0]!.key]);
    expect((await commitChange({ prev: onTeam, next: onTeam, grants: upgrade.grants })).ok).toBe(true);
    expect(await expectConsistent(orgId)).toMatchObject({ available: 100 + expected });
    expect(await orgPlan(orgId)).toBe('team');
    // A subscription written before it listed its grants: the ledger row's condition still refuses the second credit.
    const { periodGrants: _listed, ...unlisted } = await getSubscription(orgId);
    expect((await commitChange({ prev: unlisted, next: unlisted, grants: upgrade.grants })).ok).toBe(true);
    expect(await expectConsistent(orgId)).toMatchObject({ available: 100 + expected });
    expect((await getSubscription(orgId)).periodGrants).toEqual([upgrade.grants[0]!.key]);
    // A new period forgets the last one's list: its grant is credited.
    const renewed = await getSubscription(orgId);
    const grant = { ...upgrade.grants[0]!, key: `${upgrade.grants[0]!.key}:next` };
    const moved = {
      ...renewed,
      currentPeriodStart: renewed.currentPeriodEnd,
      currentPeriodEnd: addMonths(renewed.currentPeriodEnd, 1),
    };
    expect((await commitChange({ prev: renewed, next: moved, grants: [grant] })).ok).toBe(true);
    expect((await getSubscription(orgId)).periodGrants).toEqual([grant.key]);
    expect(await expectConsistent(orgId)).toMatchObject({ available: 100 + 2 * expected });
  });
});

describe('a plan’s monthly credits, once per period (DynamoDB Local)', () => {
  /** A Pro subscription renewed into an unpaid period (Pro's grant for it), its grace over: Suspended, on Free. */
  async function suspendedAfterItsGrant() {
    const orgId = await newOrg(ago(40)); // the first period ended ten days ago
    const first = await getSubscription(orgId);
    await setSubscription(orgId, { planId: 'pro', paymentProvider: 'PayPal', paidThrough: first.currentPeriodEnd });
    for (const job of ['renewal', 'grace-end'] as const) expect((await runSubscriptionJob(job)).failed).toEqual([]);
    const suspended = await getSubscription(orgId);
    expect(suspended.status).toBe('Suspended');
    expect(suspended.periodGrants).toContain(periodGrantKey(orgId, 'pro', suspended.currentPeriodStart));
    return suspended;
  }

  async function pay(sub: Subscription, planId: string, now: Date) {
    const plans = await planCatalogue();
    const paid = changes.planPaid(sub, { planId, provider: 'PayPal' }, { plans, now });
    if (paid === 'stale') throw new Error('stale');
    expect((await commitChange({ prev: sub, ...paid })).ok).toBe(true);
    return paid;
  }

  const grantedIn = async (orgId: string, periodStart: string) =>
    (await ledger(orgId)).filter((r) => r.type === 'grant' && r.key.includes(periodStart)).reduce((sum, r) => sum + r.amount, 0);

  it('grant nothing more when the plan is paid again after a suspension in the period it was granted', async () => {
    const suspended = await suspendedAfterItsGrant();
    const paid = await pay(suspended, 'pro', new Date());
    expect(paid.grants.filter((g) => g.amount > 0)).toEqual([]);
    expect(await getSubscription(suspended.orgId)).toMatchObject({ status: 'Active', planId: 'pro' });
    expect(await orgPlan(suspended.orgId)).toBe('pro');
    expect(await grantedIn(suspended.orgId, suspended.currentPeriodStart)).toBe(2_000);
    await expectConsistent(suspended.orgId);
  });

  it('prorate a richer plan paid after a suspension from the plan already granted in the period, not from Free', async () => {
    const suspended = await suspendedAfterItsGrant();
    const now = new Date();
    const paid = await pay(suspended, 'team', now);
    const period = { start: suspended.currentPeriodStart, end: suspended.currentPeriodEnd };
    const expected = proratedCredits(2_000, 10_000, period, now);
    expect(paid.grants).toMatchObject([{ key: prorationKey(suspended.orgId, period.start, 'team'), amount: expected }]);
    expect(await grantedIn(suspended.orgId, period.start)).toBe(2_000 + expected);
    await expectConsistent(suspended.orgId);
  });
});

describe('a deleted organization’s billing (DynamoDB Local)', () => {
  const deleteDirectly = (orgId: string) =>
    db.organization
      .patch({ orgId })
      .set({ deletedAt: ago(1) })
      .go();
  /** The owner's access to delete the organization, as authorization answers it from `org` and `sub` as read. */
  const ownerAccess = (owner: string, org: Organization, sub: Subscription) =>
    ({
      orgId: org.orgId,
      org,
      preloaded: [sub],
      caller: { kind: 'user', userId: owner, groups: [], isPlatformAdmin: false },
      permissions: new Set(['org:delete']),
      actorId: owner,
      actorType: 'user',
    }) as unknown as OrgAccess;
  const ownerOf = async (orgId: string) => {
    const userId = randomUUID();
    const membership = { orgId, userId, email: `${userId}@example.test`, fullName: 'Owner', role: 'owner' };
    await db.membership.create({ ...membership, assignedBy: userId, assignedAt: ago(20) }).go();
    return userId;
  };

  it('apply no payment to an organization that was deleted: no credits, no payment, even delivered twice', async () => {
    const orgId = await newOrg();
    const before = await getBalance(orgId);
    await deleteDirectly(orgId);
    const intent = `pi_deleted_${randomUUID().slice(0, 8)}`;
    const pack = stripeEvent('payment_intent.succeeded', {
      id: intent,
      amount: 1000,
      currency: 'usd',
      metadata: { orgId, kind: 'credit-pack', packId: 'credits-1000' },
    });
    const plan = stripeEvent(
      'invoice.paid',
      invoice(orgId, 'pro', { sub: `sub_${orgId}`, intent: `pi_plan_${orgId}`, period: [ago(0), addMonths(ago(0), 1)] }),
    );
    for (const event of [pack, plan]) {
      expect(await deliver(event)).toMatchObject({ outcome: 'unknown-organization', orgId });
      expect((await deliver(event)).outcome).toBe('duplicate-event');
    }
    expect(await getBalance(orgId)).toEqual(before);
    expect((await paymentDb.payment.query.byOrg({ orgId }).go()).data).toEqual([]);
    expect(await getSubscription(orgId)).toMatchObject({ planId: 'free', status: 'Active' });
  });

  it('end a subscription paid by hand, or a trial, with the organization: Cancelled on Free, nothing left due', async () => {
    for (const paidBy of ['trial', 'PayPal'] as const) {
      const orgId = await newOrg();
      const owner = await ownerOf(orgId);
      if (paidBy === 'trial') expect(await changePlan(accessTo(orgId), 'pro')).toMatchObject({ status: 'Trial' });
      else await setSubscription(orgId, { planId: 'pro', paymentProvider: 'PayPal', paidThrough: ago(-25) });
      const org = (await db.organization.get({ orgId }).go({ consistent: true })).data!;
      const access = {
        ...accessTo(orgId),
        org,
        caller: { kind: 'user', userId: owner, groups: [], isPlatformAdmin: false },
        permissions: new Set(['org:delete']),
        actorId: owner,
      } as OrgAccess;
      await deleteOrganization(access);
      expect(await getSubscription(orgId), paidBy).toMatchObject({ status: 'Cancelled', planId: 'free' });
      expect((await db.organization.get({ orgId }).go({ consistent: true })).data, paidBy).toMatchObject({
        planId: 'free',
        deletedAt: expect.any(String),
      });
      const { data: due } = await billingDb.due.query.byOrg({ orgId }).go();
      expect(due, paidBy).toEqual([]);
    }
  });

  it('a deletion refused after Stripe cancelled (the organization changed meanwhile): 409 saying so, and ours ends as Stripe’s did', async () => {
    const orgId = await newOrg();
    const owner = await ownerOf(orgId);
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
    expect((await fetch(session.url)).status).toBe(200); // the local Stripe pays, its webhooks reach the local API
    for (let i = 0; i < 50 && (await getSubscription(orgId)).paymentProvider !== 'Stripe'; i++) await sleep(100);
    const sub = await getSubscription(orgId);
    expect(sub).toMatchObject({ planId: 'pro', status: 'Active', paymentProvider: 'Stripe' });
    // The organization as read before someone renamed it: its version is behind.
    const org = (await db.organization.get({ orgId }).go({ consistent: true })).data!;
    await db.organization.patch({ orgId }).set({ name: 'Renamed' }).add({ version: 1 }).go();
    await expect(deleteOrganization(ownerAccess(owner, org, sub))).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('its Stripe subscription is cancelled'),
    });
    expect((await db.organization.get({ orgId }).go({ consistent: true })).data).toMatchObject({ name: 'Renamed' });
    expect((await db.organization.get({ orgId }).go({ consistent: true })).data!.deletedAt).toBeUndefined();
    const after = await getSubscription(orgId);
    expect(after).toMatchObject({ status: 'Cancelled', planId: 'free' });
    expect({ stripe: after.providerSubscriptionId, claim: after.claimedUntil }).toEqual({ stripe: undefined, claim: undefined });
    expect(await orgPlan(orgId)).toBe('free');
    // The cancelled Stripe subscription's invoice for the period, delivered late, does not put Pro back.
    const period: [string, string] = [sub.currentPeriodStart, sub.currentPeriodEnd];
    const late = invoice(orgId, 'pro', { sub: sub.providerSubscriptionId!, intent: `pi_late_end_${orgId}`, period });
    expect((await deliver(stripeEvent('invoice.paid', late))).outcome).toBe('stale');
    const { status, planId, providerSubscriptionId } = await getSubscription(orgId);
    expect({ status, planId, providerSubscriptionId }).toEqual({
      status: 'Cancelled',
      planId: 'free',
      providerSubscriptionId: undefined,
    });
  });

  /** The owner's deletion of the organization as authorized now, the subscription read along (delete-org.ts's `preload`). */
  const deletionOf = async (orgId: string) => {
    const owner = await ownerOf(orgId);
    const [{ data: org }, sub] = await Promise.all([
      db.organization.get({ orgId }).go({ consistent: true }),
      getSubscription(orgId),
    ]);
    return ownerAccess(owner, org!, sub);
  };
  const stateOf = async (orgId: string) => {
    const [{ data: org }, sub, { data: due }] = await Promise.all([
      db.organization.get({ orgId }).go({ consistent: true }),
      getSubscription(orgId),
      billingDb.due.query.byOrg({ orgId }).go({ consistent: true }),
    ]);
    return { deleted: !!org!.deletedAt, status: sub.status, planId: sub.planId, due: due.map((d) => d.kind).sort() };
  };
  const planCheckout = (orgId: string, stripeSub: string) =>
    stripeEvent('checkout.session.completed', {
      id: `cs_${randomUUID().slice(0, 12)}`,
      mode: 'subscription',
      payment_status: 'paid',
      subscription: stripeSub,
      metadata: { orgId, kind: 'plan', planId: 'pro' },
    });
  afterEach(() => vi.restoreAllMocks());

  it('a trial started on a read from before a Free team’s deletion is refused after it (409): no trial, credits or schedule', async () => {
    const orgId = await newOrg();
    const trial = accessTo(orgId, [await getSubscription(orgId)]);
    const credited = await ledger(orgId);
    await deleteOrganization(await deletionOf(orgId));

    await expect(changePlan(trial, 'pro')).rejects.toMatchObject({ status: 409 });
    expect(await stateOf(orgId)).toEqual({ deleted: true, status: 'Active', planId: 'free', due: [] });
    expect(await ledger(orgId)).toEqual(credited);
  });

  it('a Free team’s deletion on a read from before a trial started is refused (409): the team lives on, in its trial', async () => {
    const orgId = await newOrg();
    const deletion = await deletionOf(orgId);
    expect(await changePlan(accessTo(orgId), 'pro')).toMatchObject({ status: 'Trial' });

    await expect(deleteOrganization(deletion)).rejects.toMatchObject({ status: 409 });
    expect(await stateOf(orgId)).toEqual({
      deleted: false,
      status: 'Trial',
      planId: 'pro',
      due: ['trial-end', 'trial-reminder'],
    });
  });

  it('a Free team’s deletion on a read from before a checkout was paid is refused (409): the team lives on, on the plan paid', async () => {
    const orgId = await newOrg();
    const deletion = await deletionOf(orgId);
    const stripeSub = `sub_paidfirst_${orgId.slice(-8)}`;
    expect((await deliver(planCheckout(orgId, stripeSub))).outcome).toBe('applied');

    await expect(deleteOrganization(deletion)).rejects.toMatchObject({ status: 409 });
    expect(await stateOf(orgId)).toMatchObject({ deleted: false, status: 'Active', planId: 'pro' });
    expect((await getSubscription(orgId)).providerSubscriptionId).toBe(stripeSub);
  });

  it('a checkout paid on a read from before the deletion, written after it: the webhook finds the team deleted and cancels at Stripe', async () => {
    const orgId = await newOrg();
    const deletion = await deletionOf(orgId);
    const stripeSub = `sub_paidlate_${orgId.slice(-8)}`;
    // The webhook has read the event, organization and subscription; the deletion commits before the webhook's write.
    const client = dynamo();
    const send = client.send.bind(client);
    let deleted = false;
    vi.spyOn(client, 'send').mockImplementation((async (
      command: { constructor: { name: string }; input: unknown },
      options?: never,
    ) => {
      if (!deleted && command.constructor.name === 'TransactWriteCommand' && JSON.stringify(command.input).includes(stripeSub)) {
        deleted = true;
        await deleteOrganization(deletion);
      }
      return send(command as never, options);
    }) as never);

    // Its write refused, the webhook reads again (its retry): the organization is gone, so its Stripe subscription stops.
    expect(await deliver(planCheckout(orgId, stripeSub))).toMatchObject({ outcome: 'unknown-organization' });
    expect(deleted).toBe(true);
    const cancelled = (await stripeCalls()).some((c) => c.method === 'DELETE' && c.path === `/v1/subscriptions/${stripeSub}`);
    expect({ cancelled, ...(await stateOf(orgId)) }).toEqual({
      cancelled: true,
      deleted: true,
      status: 'Active',
      planId: 'free',
      due: [],
    });
    expect((await getSubscription(orgId)).providerSubscriptionId).toBeUndefined();
  });

  it('skip it in every schedule: no period rolls, no credits, no notification, and its markers go', async () => {
    const [renewing, cancelling, trialEnded, trialEnding, grace, suspended] = await Promise.all([
      newOrg(ago(40)),
      newOrg(ago(35)),
      newOrg(),
      newOrg(),
      newOrg(),
      newOrg(),
    ]);
    await setSubscription(cancelling, { planId: 'pro', cancelAtPeriodEnd: true, paidThrough: plusDays(ago(0), 30) });
    const trial = (end: string) => ({ planId: 'pro', status: 'Trial' as const, trialStart: ago(14), trialEnd: end });
    await setSubscription(trialEnded, { ...trial(ago(0.01)), currentPeriodStart: ago(14), currentPeriodEnd: ago(0.01) });
    await setSubscription(trialEnding, {
      ...trial(plusDays(ago(0), 2)),
      currentPeriodStart: ago(12),
      currentPeriodEnd: plusDays(ago(0), 2),
    });
    await setSubscription(grace, { planId: 'pro', graceUntil: ago(0.01) });
    await setSubscription(suspended, { planId: 'pro', status: 'Suspended', suspendedAt: ago(31) });
    const orgs = [renewing, cancelling, trialEnded, trialEnding, grace, suspended];
    const owners = await Promise.all([trialEnded, trialEnding].map(ownerOf));
    // Deleted as before deletions cleared their markers: every one of them is due.
    await Promise.all(orgs.map(deleteDirectly));
    const before = await Promise.all(
      orgs.map(async (orgId) => ({ sub: await getSubscription(orgId), ledger: await ledger(orgId) })),
    );

    for (let run = 0; run < 2; run++)
      for (const job of ['renewal', 'cancellation', 'trial-end', 'trial-reminder', 'grace-end', 'expiry'] as const)
        expect((await runSubscriptionJob(job)).failed).toEqual([]);

    for (const [i, orgId] of orgs.entries()) {
      expect(await getSubscription(orgId)).toEqual(before[i]!.sub);
      expect(await ledger(orgId)).toEqual(before[i]!.ledger);
      // What fell due is cleared unapplied: the next runs do not read it again.
      const markers = (await billingDb.due.query.byOrg({ orgId }).go()).data;
      expect(markers.filter((m) => m.dueAt <= new Date().toISOString())).toEqual([]);
    }
    // None from the jobs; the setup's own change to a trial is told by the table's stream, whenever it comes.
    const fromSetup = (n: { type: string; metadata?: Record<string, unknown> }) =>
      n.type === 'subscription-changed' && n.metadata?.status === 'Trial';
    for (const userId of owners) {
      const { data } = await notificationDb.notification.query.byId({ userId }).go({ pages: 'all' });
      expect(data.filter((n) => !fromSetup(n))).toEqual([]);
    }
  });
});

describe('late news and late changes (DynamoDB Local)', () => {
  it('refuses to take back or change a cancellation or a scheduled downgrade once its period has ended, before the schedule ran', async () => {
    const downgrading = await newOrg(ago(35)); // its period ended about five days ago
    await setSubscription(downgrading, {
      planId: 'team',
      pendingPlanId: 'pro',
      paymentProvider: 'PayPal',
      paidThrough: ago(-400),
    });
    await expect(resume(accessTo(downgrading))).rejects.toMatchObject({ status: 409 });
    // Nor by another change: a cancellation instead of the downgrade, or another plan.
    await expect(cancel(accessTo(downgrading))).rejects.toMatchObject({ status: 409 });
    await expect(changePlan(accessTo(downgrading), 'team')).rejects.toMatchObject({ status: 409 });
    const cancelling = await newOrg(ago(35));
    await setSubscription(cancelling, {
      planId: 'team',
      paymentProvider: 'PayPal',
      cancelAtPeriodEnd: true,
      paidThrough: ago(5),
    });
    await expect(resume(accessTo(cancelling))).rejects.toMatchObject({ status: 409 });
    // Nor by a cheaper plan: scheduling it would take the cancellation back and renew Pro into a period nobody paid.
    await expect(changePlan(accessTo(cancelling), 'pro')).rejects.toMatchObject({ status: 409 });

    for (const job of ['cancellation', 'renewal'] as const) expect((await runSubscriptionJob(job)).failed).toEqual([]);
    // The downgrade applied with the renewal; the cancellation ended on Free, with no grant of Pro for a period nobody paid.
    expect(await getSubscription(downgrading)).toMatchObject({ planId: 'pro' });
    const ended = await getSubscription(cancelling);
    expect(ended).toMatchObject({ status: 'Cancelled', planId: 'free' });
    const keys = (await ledger(cancelling)).map((r) => r.key);
    for (const plan of ['pro', 'team']) expect(keys).not.toContain(periodGrantKey(cancelling, plan, ended.currentPeriodStart));
    await expectConsistent(cancelling);
  });

  it('a checkout of the plan on trial ends the trial’s cancellation: the paid plan goes on after the trial', async () => {
    const orgId = await newOrg();
    const trial = await changePlan(accessTo(orgId), 'pro');
    expect(await cancel(accessTo(orgId))).toMatchObject({ status: 'Trial', cancelAtPeriodEnd: true });
    const stripeSub = `sub_trialcancel_${orgId.slice(-8)}`;
    const t = secs(new Date().toISOString());
    // Stripe's subscription (created with trial_end, not cancelling) comes first: not yet the organization's, it is ignored.
    const created = { id: stripeSub, object: 'subscription', status: 'trialing', metadata: { orgId, planId: 'pro' } };
    expect((await deliver(stripeEvent('customer.subscription.created', created, t))).outcome).toBe('ignored');
    const checkout = {
      id: `cs_${orgId.slice(-10)}`,
      mode: 'subscription',
      payment_status: 'no_payment_required',
      subscription: stripeSub,
      metadata: { orgId, kind: 'plan', planId: 'pro' },
    };
    await deliver(stripeEvent('checkout.session.completed', checkout, t));
    expect(await getSubscription(orgId)).toMatchObject({
      status: 'Active',
      cancelAtPeriodEnd: false,
      providerSubscriptionId: stripeSub,
    });

    // Two weeks on (the trial moved into the past: the schedules run at the real clock), Stripe charges the first month.
    const trialEnd = ago(0.01);
    await setSubscription(orgId, { trialStart: ago(14), currentPeriodStart: ago(14), trialEnd, currentPeriodEnd: trialEnd });
    const firstMonth: [string, string] = [trialEnd, addMonths(trialEnd, 1)];
    await deliver(
      stripeEvent('invoice.paid', invoice(orgId, 'pro', { sub: stripeSub, intent: `pi_${orgId}`, period: firstMonth }), t + 1),
    );
    for (const job of ['cancellation', 'renewal', 'trial-end'] as const)
      expect((await runSubscriptionJob(job)).failed).toEqual([]);
    expect(await getSubscription(orgId)).toMatchObject({
      status: 'Active',
      planId: 'pro',
      providerSubscriptionId: stripeSub,
      currentPeriodStart: trialEnd,
    });
  });

  it('the period’s invoice redelivered after an upgrade pays the period and leaves the upgrade', async () => {
    const orgId = await newOrg(ago(10));
    const start = await getSubscription(orgId);
    const stripeSub = `sub_late_${orgId.slice(-8)}`;
    const onPro = await setSubscription(orgId, {
      planId: 'pro',
      paymentProvider: 'Stripe',
      providerSubscriptionId: stripeSub,
      paidThrough: start.currentPeriodEnd,
    });
    const plans = await planCatalogue();
    expect(
      (await commitChange({ prev: onPro, ...changes.upgradeNow(onPro, plans.get('team')!, { plans, now: new Date() }) })).ok,
    ).toBe(true);
    const period: [string, string] = [start.currentPeriodStart, start.currentPeriodEnd];
    const late = stripeEvent(
      'invoice.paid',
      invoice(orgId, 'pro', { sub: stripeSub, intent: `pi_late_${orgId}`, period }),
      secs(period[0]),
    );
    expect((await deliver(late)).outcome).toBe('applied');
    expect(await getSubscription(orgId)).toMatchObject({ planId: 'team', status: 'Active', paidThrough: start.currentPeriodEnd });
    expect(await orgPlan(orgId)).toBe('team');
    await expectConsistent(orgId);
  });

  it('refuses an upgrade while a payment is overdue (grace period): no credits for it on a failing card', async () => {
    const orgId = await newOrg(ago(10));
    await setSubscription(orgId, {
      planId: 'pro',
      paymentProvider: 'Stripe',
      providerSubscriptionId: 'sub_overdue',
      graceUntil: ago(-3),
    });
    const before = await getBalance(orgId);
    await expect(changePlan(accessTo(orgId), 'team')).rejects.toMatchObject({ status: 409 });
    expect(await getSubscription(orgId)).toMatchObject({ planId: 'pro' });
    expect((await getBalance(orgId)).balance).toBe(before.balance);
  });

  it('a past_due update delivered after the period’s invoice.paid starts no grace period', async () => {
    const orgId = await newOrg(ago(10));
    const start = await getSubscription(orgId);
    const stripeSub = `sub_pastdue_${orgId.slice(-8)}`;
    await setSubscription(orgId, { planId: 'pro', paymentProvider: 'Stripe', providerSubscriptionId: stripeSub });
    const period: [string, string] = [start.currentPeriodStart, start.currentPeriodEnd];
    const charge = (outcome: string) =>
      stripeEvent(outcome, invoice(orgId, 'pro', { sub: stripeSub, intent: `pi_${orgId}`, period }));
    const update = (status: string) =>
      stripeEvent('customer.subscription.updated', {
        id: stripeSub,
        object: 'subscription',
        status,
        metadata: { orgId, planId: 'pro' },
      });
    await deliver(charge('invoice.payment_failed'));
    expect((await getSubscription(orgId)).graceUntil).toBeDefined();
    await deliver(charge('invoice.paid')); // the retry succeeded
    await deliver(update('past_due')); // sent between the two, delivered last
    const after = await getSubscription(orgId);
    expect(after).toMatchObject({ status: 'Active', paidThrough: start.currentPeriodEnd });
    expect(after.graceUntil).toBeUndefined(); // so no grace-end job suspends it
    expect(await orgPlan(orgId)).toBe('pro');
  });
});
