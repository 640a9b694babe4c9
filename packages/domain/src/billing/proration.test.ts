import { describe, expect, it } from 'vitest';
import { proratedCredits, prorationKey } from './proration.ts';

const period = { start: '2026-03-01T00:00:00.000Z', end: '2026-03-31T00:00:00.000Z' }; // 30 days
const day = (n: number) => new Date(Date.parse(period.start) + n * 86_400_000);

describe('proration of credits', () => {
  it('grants the difference of the monthly credits times the share of the period left, rounded down', () => {
    expect(proratedCredits(2_000, 10_000, period, day(0))).toBe(8_000);
    expect(proratedCredits(2_000, 10_000, period, day(10))).toBe(5_333); // 8000 × 20/30 = 5333.33
    expect(proratedCredits(100, 2_000, period, day(15))).toBe(950);
    expect(proratedCredits(100, 2_000, period, day(29.5))).toBe(31); // 1900 × 0.5/30 = 31.67
  });

  it('grants nothing for a cheaper or equal plan, at or after the period end, or for an empty period', () => {
    expect(proratedCredits(10_000, 2_000, period, day(5))).toBe(0);
    expect(proratedCredits(2_000, 2_000, period, day(5))).toBe(0);
    expect(proratedCredits(100, 2_000, period, day(30))).toBe(0);
    expect(proratedCredits(100, 2_000, period, day(40))).toBe(0);
    expect(proratedCredits(100, 2_000, { start: period.start, end: period.start }, day(0))).toBe(0);
  });

  it('never grants more than the whole difference, even before the period starts', () => {
    expect(proratedCredits(100, 2_000, period, day(-3))).toBe(1_900);
  });

  it('is keyed by organization, period and plan: the same upgrade in the same period grants once', () => {
    expect(prorationKey('org_1', period.start, 'team')).toBe(`prorate:org_1:${period.start}:team`);
    expect(prorationKey('org_1', period.start, 'team')).not.toBe(prorationKey('org_1', period.end, 'team'));
  });
});
