import { notifyOrgAdmins } from '../notifications/notify.ts';
import { minorUnitDigits } from './currencies.ts';
import type { CreditAccount, Subscription } from './entities.ts';
import { CLOSED_DISPUTE_STATUSES } from './enums.ts';
import type { Payment } from './payment-entities.ts';
import { ENTITY_ATTRIBUTE, entityFilter, imageOf, type StreamRecord } from '../shared/streams.ts';

/**
 * Billing's notifications to an organization's owners and admins, derived from the table's
 * stream (new and old image of every change): low balance, payment received, failed, refunded
 * or disputed,
 * subscription changed. A route, a webhook or a job only writes its change; the stream
 * delivers it here afterwards, so telling people costs no request path anything, and every
 * writer (the debit of a gateway call as much as a webhook) is covered the same way. Each
 * notification has a dedupe key, so a stream batch delivered again notifies nobody twice.
 */

/** The entities whose changes this reads: the stream's filter (deployed and local) keeps only them. */
export const BILLING_STREAM_ENTITIES = ['creditaccount', 'subscription', 'payment'] as const;

/** The stream filter, as Lambda's event source mapping takes it (and the local stream applies it). */
export const BILLING_STREAM_FILTER = entityFilter('NewImage', BILLING_STREAM_ENTITIES);

/** An amount in minor units, as Stripe counts them (cents of USD and of HUF, whole yen, fils of KWD). */
export function money(p: Pick<Payment, 'amountMinor' | 'currency'>): string {
  const currency = p.currency.toUpperCase();
  const digits = minorUnitDigits(currency);
  return `${(p.amountMinor / 10 ** digits).toFixed(digits)} ${currency}`;
}

/**
 * The credits an organization still has: a hold (`reserved`, a call in flight) is not spent, so
 * holding credits warns nobody and the settlement that spends them does. An account written by
 * an update alone may carry no `reserved` yet.
 */
const creditsLeft = (account: CreditAccount) => account.available + (account.reserved ?? 0);

/** Below the low-balance threshold of its own period (none set: never low). */
function isLow(account: CreditAccount): boolean {
  const threshold = account.lowBalanceThreshold ?? 0;
  return threshold > 0 && creditsLeft(account) < threshold;
}

/**
 * The warning is due when the account is low now and was not already low by its own threshold
 * in the same period: a threshold raised within the period (an upgrade, a reactivation) over the
 * credits left is a crossing as much as a debit is. The dedupe key keeps it to one per period.
 */
const becameLow = (before: CreditAccount | undefined, after: CreditAccount) =>
  isLow(after) && !(before && before.lowBalancePeriod === after.lowBalancePeriod && isLow(before));

async function onAccount(before: CreditAccount | undefined, after: CreditAccount) {
  if (!becameLow(before, after)) return;
  const left = creditsLeft(after);
  const threshold = after.lowBalanceThreshold;
  await notifyOrgAdmins(after.orgId, {
    type: 'low-balance',
    title: 'Credits are running low',
    message: `${left} credits are left (below ${threshold}). Buy a credit pack or upgrade the plan to keep working.`,
    metadata: { available: after.available, reserved: after.reserved ?? 0, threshold, period: after.lowBalancePeriod },
    dedupeKey: `low-balance:${after.orgId}:${after.lowBalancePeriod ?? '-'}`,
  });
}

/** What changed for the people paying, in a sentence each; nothing for a plain renewal. */
export function describeChange(before: Subscription, after: Subscription): string[] {
  const lines: string[] = [];
  if (before.planId !== after.planId) lines.push(`The plan is now ${after.planId} (was ${before.planId}).`);
  if (before.status !== after.status) lines.push(`The subscription is now ${after.status} (was ${before.status}).`);
  if (after.status === 'Trial' && before.status !== 'Trial') lines.push(`The trial ends on ${after.trialEnd}.`);
  if (after.pendingPlanId && after.pendingPlanId !== before.pendingPlanId)
    lines.push(`The ${after.pendingPlanId} plan starts on ${after.currentPeriodEnd}.`);
  if (!after.pendingPlanId && before.pendingPlanId && before.planId === after.planId)
    lines.push('The scheduled plan change was taken back.');
  if (after.cancelAtPeriodEnd && !before.cancelAtPeriodEnd) lines.push(`The subscription ends on ${after.currentPeriodEnd}.`);
  if (!after.cancelAtPeriodEnd && before.cancelAtPeriodEnd && after.status === before.status)
    lines.push('The cancellation was taken back.');
  return lines;
}

async function onSubscription(before: Subscription | undefined, after: Subscription) {
  if (!before) return;
  const lines = describeChange(before, after);
  if (!lines.length) return;
  await notifyOrgAdmins(after.orgId, {
    type: 'subscription-changed',
    title: 'Your subscription changed',
    message: lines.join(' '),
    metadata: {
      planId: after.planId,
      status: after.status,
      pendingPlanId: after.pendingPlanId,
      cancelAtPeriodEnd: after.cancelAtPeriodEnd,
    },
    dedupeKey: `subscription:${after.orgId}:${after.version}`,
  });
}

const paymentFor = (p: Payment) => (p.purpose === 'credit-pack' ? `the credit pack ${p.packId}` : `the ${p.planId} plan`);

async function onRefund(before: Payment | undefined, after: Payment) {
  const refundedMinor = after.refundedMinor ?? 0;
  if (refundedMinor <= (before?.refundedMinor ?? 0)) return;
  const taken = (after.creditsReclaimed ?? 0) - (before?.creditsReclaimed ?? 0);
  await notifyOrgAdmins(after.orgId, {
    type: 'payment-refunded',
    title: 'Payment refunded',
    message:
      `${money({ amountMinor: refundedMinor, currency: after.currency })} of the payment of ${money(after)} for ${paymentFor(after)} is now refunded.` +
      (taken > 0 ? ` This refund took back ${taken} credits.` : ''),
    metadata: { paymentIntentId: after.paymentIntentId, refundedMinor, currency: after.currency, creditsTaken: taken },
    dedupeKey: `payment:${after.paymentIntentId}:refunded:${refundedMinor}`,
  });
}

/** A dispute opened and its end; the steps between (evidence, review) are the provider's business. */
async function onDispute(before: Payment | undefined, after: Payment) {
  const status = after.disputeStatus;
  if (!status || status === before?.disputeStatus) return;
  const closed = CLOSED_DISPUTE_STATUSES.includes(status);
  if (before?.disputeStatus && !closed) return;
  const what = `the payment of ${money(after)} for ${paymentFor(after)}`;
  const taken = (after.creditsReclaimed ?? 0) - (before?.creditsReclaimed ?? 0);
  const disputed = money({ amountMinor: after.disputedMinor ?? after.amountMinor, currency: after.currency });
  const message = !closed
    ? `The cardholder's bank is disputing ${what}${after.disputeReason ? ` (${after.disputeReason.replaceAll('_', ' ')})` : ''}.` +
      (after.purpose === 'credit-pack'
        ? ' If the bank decides for the cardholder, the pack’s credits go back with the money.'
        : '')
    : status === 'lost'
      ? `The dispute of ${what} closed for the cardholder: ${disputed} went back to the card.` +
        (taken > 0 ? ` It took back ${taken} credits.` : '')
      : `The dispute of ${what} closed: the payment stands.`;
  await notifyOrgAdmins(after.orgId, {
    type: 'payment-disputed',
    title: closed ? 'Payment dispute closed' : 'Payment disputed',
    message,
    metadata: {
      paymentIntentId: after.paymentIntentId,
      disputeStatus: status,
      disputedMinor: after.disputedMinor,
      creditsTaken: taken,
    },
    dedupeKey: `payment:${after.paymentIntentId}:dispute:${closed ? 'closed' : 'opened'}`,
  });
}

/** A provider's text inside our sentence: its own closing full stop (Stripe's "Your card was declined.") left out. */
const sentence = (text: string) => text.trim().replace(/\.+$/, '');

/** Only a plan's failed payment starts a grace period; a credit pack's leaves nothing owed. */
const graceNote = (p: Payment) => (p.purpose === 'plan' ? ' Update the payment method before the grace period ends.' : '');

async function onPayment(before: Payment | undefined, after: Payment) {
  if (before?.status === after.status) {
    await onRefund(before, after);
    return onDispute(before, after);
  }
  const succeeded = after.status === 'succeeded';
  const what = paymentFor(after);
  await notifyOrgAdmins(after.orgId, {
    type: succeeded ? 'payment-received' : 'payment-failed',
    title: succeeded ? 'Payment received' : 'A payment failed',
    message: succeeded
      ? `We received ${money(after)} for ${what}. Thank you.`
      : `A payment of ${money(after)} for ${what} failed${after.failureMessage ? `: ${sentence(after.failureMessage)}` : ''}.${graceNote(after)}`,
    metadata: {
      paymentIntentId: after.paymentIntentId,
      amountMinor: after.amountMinor,
      currency: after.currency,
      purpose: after.purpose,
    },
    dedupeKey: `payment:${after.paymentIntentId}:${after.status}`,
  });
}

/** Sends what one stream record calls for (nothing for records of other entities). */
export async function notifyFromRecord(record: StreamRecord): Promise<void> {
  if (record.eventName === 'REMOVE') return;
  const after = imageOf(record.dynamodb?.NewImage);
  const before = imageOf(record.dynamodb?.OldImage);
  switch (after?.[ENTITY_ATTRIBUTE]) {
    case 'creditaccount':
      return onAccount(before as unknown as CreditAccount | undefined, after as unknown as CreditAccount);
    case 'subscription':
      return onSubscription(before as unknown as Subscription | undefined, after as unknown as Subscription);
    case 'payment':
      return onPayment(before as unknown as Payment | undefined, after as unknown as Payment);
  }
}
