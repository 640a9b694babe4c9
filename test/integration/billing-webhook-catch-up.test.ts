import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { billingDb, ledgerDb } from '@platform/domain/billing/entities';
import { runSubscriptionJob } from '@platform/domain/billing/jobs';
import { periodGrantKey } from '@platform/domain/billing/ledger';
import { signStripePayload } from '@platform/domain/billing/stripe/signature';
import { handleStripeWebhook } from '@platform/domain/billing/stripe/webhooks';
import { GRACE_DAYS, addMonths, getSubscription, periodEndAfter, plusDays } from '@platform/domain/billing/subscription-store';
import { dynamo } from '@platform/domain/shared/dynamo';
import { beforeRequest, newBillingOrg, setSubscription, sentRequests } from '../helpers/billing.ts';

/**
 * A Stripe event that changes a subscription whose period ended, delivered before the hourly
 * schedules ran: it applies to the subscription as the jobs running on time would have left it,
 * whatever the hour they run. Jobs run at the real "now" against subscriptions dated in the past
 * (as billing-catch-up.test.ts does); another file's job may apply the work first, which changes
 * no outcome.
 */
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
const secs = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/**
 * A Pro plan billed by Stripe, paid through the end of its first period, which ended two to five
 * days ago (a grace period started then would still run); its renewal has not run.
 */
async function proBilledPastPeriodEnd() {
  const orgId = await newBillingOrg('whcatchup', ago(33));
  const first = await getSubscription(orgId);
  const stripeId = `sub_whcatchup_${orgId.slice(-10)}`;
  const sub = await setSubscription(orgId, {
    planId: 'pro',
    paymentProvider: 'Stripe',
    providerSubscriptionId: stripeId,
    paidThrough: first.currentPeriodEnd,
  });
  const end = first.currentPeriodEnd;
  return { orgId, sub, stripeId, end, nextEnd: addMonths(end, 1, first.billingAnchor) };
}

let created = Math.floor(Date.now() / 1000);

/** Delivers a signed event to the webhook; its raw body, to deliver it again. */
async function deliver(type: string, object: object, raw?: string) {
  const body =
    raw ??
    JSON.stringify({
      id: `evt_${randomUUID().replaceAll('-', '')}`,
      object: 'event',
      type,
      created: ++created,
      data: { object },
    });
  const handled = await handleStripeWebhook(body, signStripePayload(body, process.env.STRIPE_WEBHOOK_SECRET!));
  return { ...handled, raw: body };
}

/** Stripe's invoice of the period from `start` to `end`, paid or failed. */
const invoice = (orgId: string, stripeId: string, start: string, end: string, paid: boolean) =>
  deliver(paid ? 'invoice.paid' : 'invoice.payment_failed', {
    id: `in_${randomUUID().replaceAll('-', '')}`,
    object: 'invoice',
    subscription: stripeId,
    payment_intent: `pi_${randomUUID().replaceAll('-', '')}`,
    amount_paid: paid ? 2000 : 0,
    amount_due: 2000,
    currency: 'usd',
    subscription_details: { metadata: { orgId, planId: 'pro' } },
    lines: { data: [{ metadata: { orgId, planId: 'pro' }, period: { start: secs(start), end: secs(end) } }] },
  });

const subscriptionUpdated = (orgId: string, stripeId: string, cancelAtPeriodEnd: boolean) =>
  deliver('customer.subscription.updated', {
    id: stripeId,
    object: 'subscription',
    status: 'active',
    cancel_at_period_end: cancelAtPeriodEnd,
    metadata: { orgId, planId: 'pro' },
  });

const grantsOf = async (orgId: string, key: string) =>
  (await ledgerDb.transaction.query.byKey({ orgId }).go({ pages: 'all' })).data.filter((r) => r.key === key).length;
const markers = async (orgId: string) =>
  (await billingDb.due.query.byOrg({ orgId }).go()).data.map((m) => [m.kind, m.dueAt]).sort();
const runJobs = async (...jobs: Parameters<typeof runSubscriptionJob>[0][]) => {
  for (const job of jobs) expect((await runSubscriptionJob(job)).failed).toEqual([]);
};

const originalSend = dynamo().send;
afterEach(() => {
  dynamo().send = originalSend;
});

describe('a Stripe event after the period ended, before the schedules ran (DynamoDB Local)', () => {
  it('a cancellation set in Stripe’s portal after Stripe renewed keeps the month Stripe was paid for, to its end', async () => {
    const { orgId, stripeId, end, nextEnd } = await proBilledPastPeriodEnd();
    // Stripe renewed at the period end and was paid; then the customer cancels in its portal.
    expect((await invoice(orgId, stripeId, end, nextEnd, true)).outcome).toBe('applied');
    const cancelled = await subscriptionUpdated(orgId, stripeId, true);
    expect(cancelled.outcome).toBe('applied');
    await runJobs('cancellation', 'renewal');
    const after = await getSubscription(orgId);
    expect({
      status: after.status,
      planId: after.planId,
      cancelAtPeriodEnd: after.cancelAtPeriodEnd,
      currentPeriodStart: after.currentPeriodStart,
      currentPeriodEnd: after.currentPeriodEnd,
      paidThrough: after.paidThrough,
      graceUntil: after.graceUntil,
      providerSubscriptionId: after.providerSubscriptionId,
    }).toEqual({
      status: 'Active',
      planId: 'pro',
      cancelAtPeriodEnd: true,
      currentPeriodStart: end,
      currentPeriodEnd: nextEnd,
      paidThrough: nextEnd,
      graceUntil: undefined,
      providerSubscriptionId: stripeId,
    });
    expect(await markers(orgId)).toEqual([['cancellation', nextEnd]]);
    // The month under way brought Pro's credits, once.
    expect(await grantsOf(orgId, periodGrantKey(orgId, 'pro', end))).toBe(1);
    // Delivered again, the event changes nothing.
    const replayed = await deliver('', {}, cancelled.raw);
    expect(replayed.outcome).toBe('duplicate-event');
    expect((await getSubscription(orgId)).version).toBe(after.version);
  });

  it('a failed invoice of the month under way leaves the grace period the renewal started, counted from the period’s start', async () => {
    const { orgId, stripeId, end, nextEnd } = await proBilledPastPeriodEnd();
    expect((await invoice(orgId, stripeId, end, nextEnd, false)).outcome).toBe('applied');
    await runJobs('renewal', 'grace-end');
    // As if the renewal job had run on time, before the invoice: whatever the hour the jobs run.
    expect(await getSubscription(orgId)).toMatchObject({
      status: 'Active',
      planId: 'pro',
      currentPeriodStart: end,
      currentPeriodEnd: nextEnd,
      graceUntil: plusDays(end, GRACE_DAYS),
    });
    expect(await markers(orgId)).toEqual([
      ['grace-end', plusDays(end, GRACE_DAYS)],
      ['renewal', nextEnd],
    ]);
  });

  it('a renewal job committing first while the event catches up: the event reads again and applies, the period granted once', async () => {
    const { orgId, sub, stripeId, end, nextEnd } = await proBilledPastPeriodEnd();
    // Just as the event's catch-up writes, the renewal job renews the subscription it had read.
    const raced = beforeRequest(
      (name, input) => name === 'TransactWriteCommand' && input.includes(orgId),
      () => runSubscriptionJob('renewal'),
    );
    const cancelled = await subscriptionUpdated(orgId, stripeId, true);
    expect({ fired: raced.fired, error: raced.error, outcome: cancelled.outcome }).toEqual({
      fired: true,
      error: undefined,
      outcome: 'applied',
    });
    expect(await getSubscription(orgId)).toMatchObject({
      planId: 'pro',
      cancelAtPeriodEnd: true,
      currentPeriodStart: end,
      currentPeriodEnd: nextEnd,
      version: sub.version! + 2,
    });
    expect(await grantsOf(orgId, periodGrantKey(orgId, 'pro', end))).toBe(1);
  });

  /** A checkout of Pro completed for a cycle on the 31st whose period ended on Oct 31, its renewal not run. */
  async function completedLate(billingCycleAnchor: string) {
    const orgId = await newBillingOrg('whanchor', '2026-09-30T10:00:00.000Z');
    await setSubscription(orgId, {
      billingAnchor: '2026-08-31T10:00:00.000Z',
      currentPeriodStart: '2026-09-30T10:00:00.000Z',
      currentPeriodEnd: '2026-10-31T10:00:00.000Z',
    });
    const completed = await deliver('checkout.session.completed', {
      id: `cs_${randomUUID().replaceAll('-', '')}`,
      object: 'checkout.session',
      mode: 'subscription',
      payment_status: 'paid',
      subscription: `sub_whanchor_${orgId.slice(-10)}`,
      amount_total: 2000,
      currency: 'usd',
      metadata: { orgId, kind: 'plan', planId: 'pro', billingCycleAnchor },
    });
    expect(completed.outcome).toBe('applied');
    return getSubscription(orgId);
  }

  it.each(['2026-02-31T10:00:00.000Z', '2026-10-31T24:00:00.000Z'])(
    'a checkout whose anchor is no date (%s, edited at Stripe) keeps the renewed period’s end as anchor, a real instant',
    async (impossible) => {
      // `Date.parse` takes Feb 31 as Mar 3 and 24:00 as Nov 1: the cycle would have moved to the 3rd or the 1st.
      const after = await completedLate(impossible);
      expect(after).toMatchObject({ planId: 'pro', billingAnchor: '2026-11-30T10:00:00.000Z' });
      expect(periodEndAfter(after, '2026-11-30T10:00:00.000Z')).toBe('2026-12-30T10:00:00.000Z');
    },
  );

  it('a checkout completed after its period ended keeps the cycle Stripe was given, though the period was renewed first', async () => {
    // The period that ended on Oct 31 renews to Nov 30 (the month's last day); the session was
    // made before Oct 31 (checkout.ts gave Stripe that anchor, and says so in its metadata).
    const anchor = '2026-10-31T10:00:00.000Z';
    const after = await completedLate(anchor);
    expect(after).toMatchObject({ planId: 'pro', billingAnchor: anchor });
    // Stripe's cycle: Nov 30, then Dec 31, as ours.
    expect(periodEndAfter(after, '2026-11-30T10:00:00.000Z')).toBe('2026-12-31T10:00:00.000Z');
  });

  it('costs nothing more when nothing is due: a subscription event is one read and one write', async () => {
    const orgId = await newBillingOrg('whcatchup', ago(10));
    const stripeId = `sub_whcatchup_${orgId.slice(-10)}`;
    await setSubscription(orgId, { planId: 'pro', paymentProvider: 'Stripe', providerSubscriptionId: stripeId });
    const sent = sentRequests();
    expect((await subscriptionUpdated(orgId, stripeId, true)).outcome).toBe('applied');
    // The plan catalogue's query, the event's reads, and the commit.
    expect(sent.sort()).toEqual(['QueryCommand', 'TransactGetCommand', 'TransactWriteCommand']);
  });
});
