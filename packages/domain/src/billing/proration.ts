/**
 * Credits for a plan that starts mid-period: the difference of the monthly grants, times the
 * share of the period still to run, rounded down (a part of a credit is not granted). Never
 * negative: a cheaper plan waits for the period end, so nothing is taken back. A period shorter
 * than a month (`monthMs`: a trial, whose grant is the plan's for that length) counts its time
 * left as a share of a month.
 */
export function proratedCredits(
  fromMonthly: number,
  toMonthly: number,
  period: { start: string; end: string },
  now: Date,
  monthMs = 0,
): number {
  const start = Date.parse(period.start);
  const end = Date.parse(period.end);
  if (!(end > start) || toMonthly <= fromMonthly) return 0;
  const remaining = Math.min(1, Math.max(0, (end - now.getTime()) / Math.max(end - start, monthMs)));
  return Math.floor((toMonthly - fromMonthly) * remaining);
}

/** The key of a proration grant: once per organization, period and plan, however often the change is retried. */
export const prorationKey = (orgId: string, periodStart: string, planId: string) => `prorate:${orgId}:${periodStart}:${planId}`;
