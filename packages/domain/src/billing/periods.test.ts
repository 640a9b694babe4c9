import { describe, expect, it } from 'vitest';
import type { Subscription } from './entities.ts';
import { DEFAULT_PLANS } from './plans.ts';
import { planPaid, renew, startTrial } from './subscription-changes.ts';
import { addMonths } from './subscription-store.ts';

const ctx = (now: string) => ({ plans: new Map(Object.entries(DEFAULT_PLANS)), now: new Date(now) });

/** A Pro subscription billed by Stripe, in the period that starts at `start` of a cycle anchored at `anchor`. */
const onPro = (start: string, end: string, anchor: string): Subscription => ({
  orgId: 'org_periods',
  planId: 'pro',
  status: 'Active',
  currentPeriodStart: start,
  currentPeriodEnd: end,
  billingAnchor: anchor,
  paymentProvider: 'Stripe',
  providerSubscriptionId: 'sub_periods',
  paidThrough: end,
  version: 1,
  createdAt: anchor,
});

describe('monthly periods, as Stripe bills them', () => {
  it('end on the anchor’s day of the month, or on the last day of a shorter month, at the same time of day', () => {
    expect(addMonths('2027-01-31T09:30:00.000Z', 1)).toBe('2027-02-28T09:30:00.000Z');
    expect(addMonths('2028-01-31T09:30:00.000Z', 1)).toBe('2028-02-29T09:30:00.000Z'); // a leap year
    expect(addMonths('2027-02-28T09:30:00.000Z', 1, '2027-01-31T09:30:00.000Z')).toBe('2027-03-31T09:30:00.000Z');
    expect(addMonths('2027-03-31T09:30:00.000Z', 1)).toBe('2027-04-30T09:30:00.000Z');
    expect(addMonths('2027-12-15T00:00:00.000Z', 1)).toBe('2028-01-15T00:00:00.000Z');
    expect(addMonths('2027-01-15T00:00:00.000Z', 13)).toBe('2028-02-15T00:00:00.000Z');
  });

  it('a cycle anchored on the 31st renews Jan 31 → Feb 28 → Mar 31, and Stripe’s paid invoice for each leaves no grace', () => {
    const anchor = '2027-01-31T00:00:00.000Z';
    let sub = onPro('2026-12-31T00:00:00.000Z', anchor, '2026-12-31T00:00:00.000Z');
    const ends: string[] = [];
    for (const stripeEnd of ['2027-02-28T00:00:00.000Z', '2027-03-31T00:00:00.000Z', '2027-04-30T00:00:00.000Z']) {
      // Stripe's invoice for the next period comes at the period end, then the renewal runs.
      const paid = planPaid(
        sub,
        {
          planId: 'pro',
          provider: 'Stripe',
          providerSubscriptionId: 'sub_periods',
          periodStart: sub.currentPeriodEnd,
          periodEnd: stripeEnd,
        },
        ctx(sub.currentPeriodEnd),
      );
      if (paid === 'stale') throw new Error('stale');
      const renewed = renew(paid.next, ctx(sub.currentPeriodEnd)).next;
      expect(renewed.graceUntil, `renewed into ${renewed.currentPeriodEnd}`).toBeUndefined();
      ends.push(renewed.currentPeriodEnd);
      sub = renewed;
    }
    expect(ends).toEqual(['2027-02-28T00:00:00.000Z', '2027-03-31T00:00:00.000Z', '2027-04-30T00:00:00.000Z']);
  });

  it('after a trial, the months run from its end (Stripe bills from the trial’s end)', () => {
    const free: Subscription = {
      ...onPro('2027-01-17T00:00:00.000Z', '2027-02-17T00:00:00.000Z', '2027-01-17T00:00:00.000Z'),
      planId: 'free',
      paymentProvider: undefined,
      providerSubscriptionId: undefined,
      paidThrough: undefined,
    };
    const trial = startTrial(free, DEFAULT_PLANS.pro!, ctx('2027-01-17T00:00:00.000Z')).next;
    expect(trial).toMatchObject({ currentPeriodEnd: '2027-01-31T00:00:00.000Z', billingAnchor: '2027-01-31T00:00:00.000Z' });
    const paid = planPaid(trial, { planId: 'pro', provider: 'PayPal' }, ctx('2027-01-20T00:00:00.000Z'));
    if (paid === 'stale') throw new Error('stale');
    expect(paid.next.paidThrough).toBe('2027-02-28T00:00:00.000Z'); // the month after the trial
    const first = renew(paid.next, ctx('2027-01-31T00:00:00.000Z')).next;
    const second = renew(first, ctx('2027-02-28T00:00:00.000Z')).next;
    expect([first.currentPeriodEnd, second.currentPeriodEnd]).toEqual(['2027-02-28T00:00:00.000Z', '2027-03-31T00:00:00.000Z']);
  });
});
