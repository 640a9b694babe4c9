import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { billingDb, ledgerDb, type Subscription } from '@platform/domain/billing/entities';
import { runSubscriptionJob } from '@platform/domain/billing/jobs';
import { periodGrantKey } from '@platform/domain/billing/ledger';
import { manualPaymentReads, recordManualPayment, type ManualPaymentInput } from '@platform/domain/billing/payments';
import { addMonths, getSubscription } from '@platform/domain/billing/subscription-store';
import { cancel, changePlan } from '@platform/domain/billing/subscriptions';
import type { OrgAccess } from '@platform/domain/identity/access';
import { db } from '@platform/domain/identity/entities';
import { dynamo } from '@platform/domain/shared/dynamo';
import { transactGet } from '@platform/domain/shared/transactions';
import { beforeRequest, newBillingOrg, setSubscription, sentRequests } from '../helpers/billing.ts';

/**
 * A change made after the period ended, before the hourly schedules ran, and a schedule racing a
 * change: the outcome is the one the jobs running on time would have left, whatever the hour they
 * run. Jobs run at the real "now" against subscriptions these tests dated in the past (as
 * billing.test.ts does); another file's job may apply the work first, which changes no outcome.
 */
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

const newOrg = (start: string) => newBillingOrg('catchup', start);

/** A Pro plan paid by PayPal through the end of the month that began about five days ago; its renewal has not run. */
async function proPaidPastPeriodEnd() {
  const orgId = await newOrg(ago(35));
  const first = await getSubscription(orgId);
  const nextEnd = addMonths(first.currentPeriodEnd, 1, first.billingAnchor);
  const sub = await setSubscription(orgId, { planId: 'pro', paymentProvider: 'PayPal', paidThrough: nextEnd });
  return { orgId, sub, first, nextEnd };
}

const orgPlan = async (orgId: string) => (await db.organization.get({ orgId }).go({ consistent: true })).data?.planId;
const grantKeys = async (orgId: string) =>
  (await ledgerDb.transaction.query.byKey({ orgId }).go({ pages: 'all' })).data
    .filter((r) => r.type === 'grant')
    .map((r) => r.key);
const markers = async (orgId: string) =>
  (await billingDb.due.query.byOrg({ orgId }).go()).data.map((m) => [m.kind, m.dueAt]).sort();
const runJobs = async (...jobs: Parameters<typeof runSubscriptionJob>[0][]) => {
  for (const job of jobs) expect((await runSubscriptionJob(job)).failed).toEqual([]);
};

/** An owner's access, the subscription read with the authorization (as the routes preload it). */
const ownerAccess = (orgId: string, sub: Subscription): OrgAccess =>
  ({
    orgId,
    preloaded: [sub],
    org: { orgId } as never,
    caller: { kind: 'user', userId: randomUUID(), groups: [], isPlatformAdmin: false },
    permissions: new Set(['billing:manage']),
    actorId: 'u',
    actorType: 'user',
  }) as OrgAccess;

/** A platform admin recording a payment by hand, with the reads its route makes with the authorization. */
async function payByHand(orgId: string, input: ManualPaymentInput) {
  const preloaded = await transactGet(manualPaymentReads(orgId, input) as Parameters<typeof transactGet>[0]);
  const access = {
    orgId,
    preloaded,
    org: { orgId } as never,
    caller: { kind: 'user', userId: randomUUID(), groups: ['admin'], isPlatformAdmin: true },
    permissions: new Set(['billing:manage']),
    actorId: 'admin',
    actorType: 'user',
  } as OrgAccess;
  return recordManualPayment(access, input);
}

const originalSend = dynamo().send;
afterEach(() => {
  dynamo().send = originalSend;
});

describe('a change made after the period ended, before the schedules ran (DynamoDB Local)', () => {
  it('an owner’s cancellation keeps the plan through the month already paid: it ends at that month’s end, not at once on Free', async () => {
    const { orgId, sub, first, nextEnd } = await proPaidPastPeriodEnd();
    const cancelled = await cancel(ownerAccess(orgId, sub));
    // The renewal the job would have made first, then the cancellation, for the end of the month under way.
    expect(cancelled).toMatchObject({
      status: 'Active',
      planId: 'pro',
      cancelAtPeriodEnd: true,
      currentPeriodStart: first.currentPeriodEnd,
      currentPeriodEnd: nextEnd,
    });
    await runJobs('cancellation', 'renewal');
    expect(await getSubscription(orgId)).toMatchObject({ status: 'Active', planId: 'pro', currentPeriodEnd: nextEnd });
    expect(await orgPlan(orgId)).toBe('pro');
    expect(await markers(orgId)).toEqual([['cancellation', nextEnd]]);
    // The month under way brought Pro's credits, once.
    expect((await grantKeys(orgId)).filter((key) => key === periodGrantKey(orgId, 'pro', first.currentPeriodEnd))).toHaveLength(
      1,
    );
  });

  it('a cheaper plan asked for then is scheduled for the end of the month under way, which keeps its plan', async () => {
    const { orgId, first, nextEnd } = await proPaidPastPeriodEnd();
    const onTeam = await setSubscription(orgId, { planId: 'team' });
    const changed = await changePlan(ownerAccess(orgId, onTeam), 'pro');
    expect(changed).toMatchObject({
      planId: 'team',
      pendingPlanId: 'pro',
      currentPeriodStart: first.currentPeriodEnd,
      currentPeriodEnd: nextEnd,
    });
    await runJobs('renewal', 'cancellation');
    expect(await getSubscription(orgId)).toMatchObject({ status: 'Active', planId: 'team', currentPeriodEnd: nextEnd });
    expect(await orgPlan(orgId)).toBe('team');
  });

  it('a plan paid by hand then pays the month under way: Active on it, no grace period, no suspension', async () => {
    const orgId = await newOrg(ago(40)); // Free; its first period ended ten days ago
    const first = await getSubscription(orgId);
    const monthUnderWay = addMonths(first.currentPeriodEnd, 1, first.billingAnchor);
    const paid = await payByHand(orgId, {
      provider: 'PayPal',
      reference: `CAP-CATCHUP-${orgId.slice(-10)}`,
      amountMinor: 2000,
      currency: 'USD',
      planId: 'pro',
    });
    expect(paid.created).toBe(true);
    expect(await getSubscription(orgId)).toMatchObject({
      status: 'Active',
      planId: 'pro',
      currentPeriodStart: first.currentPeriodEnd,
      paidThrough: monthUnderWay,
    });
    await runJobs('renewal', 'grace-end');
    const after = await getSubscription(orgId);
    expect({ status: after.status, graceUntil: after.graceUntil, orgPlan: await orgPlan(orgId) }).toEqual({
      status: 'Active',
      graceUntil: undefined,
      orgPlan: 'pro',
    });
    expect(await markers(orgId)).toEqual([['renewal', monthUnderWay]]);
  });

  it('a renewal job committing first while the change catches up: the change reads again and goes on, the period rolled and granted once', async () => {
    const { orgId, sub, first, nextEnd } = await proPaidPastPeriodEnd();
    // Just as the cancellation writes, the renewal job renews the subscription it had read.
    const raced = beforeRequest(
      (name, input) => name === 'TransactWriteCommand' && input.includes(orgId),
      () => runSubscriptionJob('renewal'),
    );
    const cancelled = await cancel(ownerAccess(orgId, sub));
    expect({ fired: raced.fired, error: raced.error }).toEqual({ fired: true, error: undefined });
    expect(cancelled).toMatchObject({ planId: 'pro', cancelAtPeriodEnd: true, currentPeriodEnd: nextEnd });
    expect(await getSubscription(orgId)).toMatchObject({ currentPeriodStart: first.currentPeriodEnd, version: sub.version! + 2 });
    expect((await grantKeys(orgId)).filter((key) => key === periodGrantKey(orgId, 'pro', first.currentPeriodEnd))).toHaveLength(
      1,
    );
  });

  it('costs nothing when nothing is due: a cancellation is one write', async () => {
    const orgId = await newOrg(ago(10));
    const sub = await setSubscription(orgId, { planId: 'pro', paymentProvider: 'PayPal' });
    const sent = sentRequests();
    await cancel(ownerAccess(orgId, sub));
    // The plan catalogue's query, and the commit.
    expect(sent.sort()).toEqual(['QueryCommand', 'TransactWriteCommand']);
  });
});

describe('a due marker a job clears while a change puts it back (DynamoDB Local)', () => {
  it('stays: a Stripe subscription cancelled then resumed while the renewal job reads it still renews', async () => {
    const orgId = await newOrg(ago(35)); // its first period ended about five days ago
    const stripeSub = `sub_catchup_${orgId.slice(-10)}`;
    const first = await setSubscription(orgId, {
      planId: 'pro',
      paymentProvider: 'Stripe',
      providerSubscriptionId: stripeSub,
      paidThrough: addMonths(ago(35), 2),
    });
    // A cancellation and its taking back committed as a change commits them, without the catch-up
    // a route or a webhook makes first (which would renew the subscription before the job could).
    const update = (cancelAtPeriodEnd: boolean) => setSubscription(orgId, { cancelAtPeriodEnd, status: 'Active' });
    // The job has listed the renewal marker; as it reads the subscription, Stripe says "cancel at period end"…
    const cancelled = beforeRequest(
      (name, input) => name === 'TransactGetCommand' && input.includes(orgId) && input.includes('subscription'),
      () => update(true),
    );
    // …and as the job removes the marker it found done with, Stripe says "resume": the marker is back, same date.
    const clearing = (name: string, input: string) =>
      input.includes(orgId) &&
      input.includes('renewal') &&
      (name === 'DeleteCommand' ||
        (name === 'TransactWriteCommand' && /^\{"TransactItems":\[\{"Delete":.*\{"ConditionCheck":/.test(input)));
    const resumed = beforeRequest(clearing, () => update(false));
    await runSubscriptionJob('renewal');
    expect({ cancelled: cancelled.fired, resumed: resumed.fired, errors: [cancelled.error, resumed.error] }).toEqual({
      cancelled: true,
      resumed: true,
      errors: [undefined, undefined],
    });
    expect(await getSubscription(orgId)).toMatchObject({ status: 'Active', planId: 'pro', cancelAtPeriodEnd: false });
    expect(await markers(orgId)).toEqual([['renewal', first.currentPeriodEnd]]);
    // Its period ended and nothing cancels it: the next run renews it.
    dynamo().send = originalSend;
    await runJobs('renewal');
    expect(await getSubscription(orgId)).toMatchObject({ currentPeriodStart: first.currentPeriodEnd });
    expect(await markers(orgId)).toEqual([['renewal', addMonths(first.currentPeriodEnd, 1, first.billingAnchor)]]);
  });
});
