import { randomUUID } from 'node:crypto';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { debit, release, reserve, settle } from '@platform/domain/billing/ledger';
import { notifyFromRecord } from '@platform/domain/billing/notifications';
import { DEFAULT_PLANS } from '@platform/domain/billing/plans';
import { grantWrites, lowBalanceMark, periodGrant, type Grant } from '@platform/domain/billing/subscription-store';
import { db } from '@platform/domain/identity/entities';
import { notificationDb } from '@platform/domain/notifications/entities';
import { newId } from '@platform/domain/shared/ids';
import { transactWrite } from '@platform/domain/shared/transactions';

/**
 * Billing's notifications as the owner reads them, from the table's stream (the local stream
 * delivers within a second or so) or from a stream record handed over directly.
 */
const pro = DEFAULT_PLANS.pro!; // 2,000 credits a month: warned below 200
const period = () => new Date(Date.now() - 10 * 86_400_000).toISOString();

async function orgWithOwner() {
  const orgId = newId('org');
  const userId = randomUUID();
  await db.membership
    .create({
      orgId,
      userId,
      email: `o-${userId.slice(0, 6)}@example.test`,
      role: 'owner',
      assignedBy: userId,
      assignedAt: new Date().toISOString(),
    })
    .go();
  return { orgId, userId };
}

const inbox = async (userId: string, type: string) =>
  (await notificationDb.notification.query.byId({ userId }).go({ pages: 'all' })).data.filter((n) => n.type === type);

/** The owner's low-balance warnings, once the stream has delivered one (none after 6 s: an empty list). */
async function lowBalanceWarnings(userId: string) {
  const deadline = Date.now() + 6000;
  while (Date.now() < deadline && !(await inbox(userId, 'low-balance')).length) await new Promise((r) => setTimeout(r, 200));
  return (await inbox(userId, 'low-balance')).map((n) => n.message);
}

/** A mid-period change of plan as subscription-changes.ts writes it: the new plan's warning on a grant (of nothing, or a proration). */
const markGrant = (orgId: string, planId: 'free' | 'team', periodStart: string, amount = 0): Grant => ({
  key: `change:${orgId}:${randomUUID()}`,
  type: 'grant',
  amount,
  description: 'Plan change',
  mark: lowBalanceMark(DEFAULT_PLANS[planId]!, periodStart),
});

describe('low-balance warning', () => {
  it('warns once when an upgrade’s proration leaves the credits under the new plan’s threshold, not at the debits after', async () => {
    const { orgId, userId } = await orgWithOwner();
    const start = period();
    await transactWrite(grantWrites(orgId, [periodGrant(orgId, pro, start)]));
    await debit(orgId, `spent-${randomUUID()}`, 1500); // 500 left: above Pro's 200
    await transactWrite(grantWrites(orgId, [markGrant(orgId, 'team', start, 300)])); // 800: below Team's 1,000
    await debit(orgId, `spent-${randomUUID()}`, 700);
    expect(await lowBalanceWarnings(userId)).toEqual([
      '800 credits are left (below 1000). Buy a credit pack or upgrade the plan to keep working.',
    ]);
  }, 20_000);

  it('warns when a reactivation puts back a plan whose threshold is above the credits left (Suspended on Free’s 10, then Team’s 1,000)', async () => {
    const { orgId, userId } = await orgWithOwner();
    const start = period();
    await transactWrite(grantWrites(orgId, [periodGrant(orgId, pro, start)]));
    await debit(orgId, `spent-${randomUUID()}`, 1500);
    await transactWrite(grantWrites(orgId, [markGrant(orgId, 'free', start)])); // suspended: 500 is above 10
    await transactWrite(grantWrites(orgId, [markGrant(orgId, 'team', start)])); // active on Team again
    expect(await lowBalanceWarnings(userId)).toEqual([
      '500 credits are left (below 1000). Buy a credit pack or upgrade the plan to keep working.',
    ]);
  }, 20_000);

  it('does not count a call’s hold as spent: a hold released in full warns nobody, the settlement that spends the credits does', async () => {
    const { orgId, userId } = await orgWithOwner();
    await transactWrite(grantWrites(orgId, [periodGrant(orgId, pro, period())])); // 2,000
    const failed = await reserve(orgId, `call-${randomUUID()}`, 1950); // in flight: 50 available
    expect(await release(orgId, failed.reservationId)).toBe(true); // failed upstream: nothing charged
    const served = await reserve(orgId, `call-${randomUUID()}`, 1950);
    await settle(orgId, served.reservationId, 1940); // 60 left
    expect(await lowBalanceWarnings(userId)).toEqual([
      '60 credits are left (below 200). Buy a credit pack or upgrade the plan to keep working.',
    ]);
  }, 20_000);
});

/** A payment as the table holds it, handed to the stream's handler. */
async function paymentRecord(orgId: string, fields: Record<string, unknown>) {
  const now = new Date().toISOString();
  const payment = {
    __edb_e__: 'payment',
    __edb_v__: '1',
    paymentIntentId: `pi_${randomUUID().replace(/-/g, '')}`,
    paymentId: newId('pay'),
    orgId,
    provider: 'Stripe',
    method: 'card',
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
  await notifyFromRecord({ eventName: 'INSERT', dynamodb: { NewImage: marshall(payment, { removeUndefinedValues: true }) } });
}

describe('payment notifications', () => {
  it('ask for a new payment method before the grace period ends for a plan’s failed payment only, not a credit pack’s', async () => {
    const { orgId, userId } = await orgWithOwner();
    // Stripe's text ends with its own full stop: the message has one.
    const failed = { amountMinor: 1000, currency: 'USD', status: 'failed', failureMessage: 'Your card was declined.' };
    await paymentRecord(orgId, { ...failed, purpose: 'credit-pack', packId: 'pack-small' });
    await paymentRecord(orgId, { ...failed, purpose: 'plan', planId: 'pro' });
    expect((await inbox(userId, 'payment-failed')).map((n) => n.message).sort()).toEqual([
      'A payment of 10.00 USD for the credit pack pack-small failed: Your card was declined.',
      'A payment of 10.00 USD for the pro plan failed: Your card was declined. Update the payment method before the grace period ends.',
    ]);
  });

  it('state HUF and ISK amounts as Stripe counts them (two decimals), not 100 times the money', async () => {
    const { orgId, userId } = await orgWithOwner();
    for (const currency of ['HUF', 'ISK'])
      await paymentRecord(orgId, { amountMinor: 500_000, currency, status: 'succeeded', purpose: 'plan', planId: 'pro' });
    expect((await inbox(userId, 'payment-received')).map((n) => n.message).sort()).toEqual([
      'We received 5000.00 HUF for the pro plan. Thank you.',
      'We received 5000.00 ISK for the pro plan. Thank you.',
    ]);
  });
});
