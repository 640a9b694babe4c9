import * as z from 'zod';
import { clock } from '../shared/clock.ts';
import { ValidationError } from '../shared/errors.ts';
import { usageDb, type DimensionKind, type UsageDaily, type UsageLog } from './entities.ts';
import { pageOf } from '../shared/pages.ts';
import { DAILY_MAX_ITEMS, nextDay } from './schemas.ts';

/**
 * Daily aggregates for reports and charts: per organization and UTC day, one item per
 * dimension (`org`, `user#<userId>`, `model#<model>`) with tokens, cost, credits, calls
 * and errors.
 *
 * They are rebuilt from the logs by the daily job (`aggregateDay`), never counted up on the
 * request path: a counter updated by every call is one hot item under load. Rebuilding
 * writes whole items (SET, not ADD), so running the job again for a day, or after late logs
 * arrived, gives the same totals as the logs and never counts a call twice.
 */
const TOTALS = [
  'inputTokens',
  'outputTokens',
  'totalTokens',
  'inputCostMicros',
  'outputCostMicros',
  'totalCostMicros',
  'credits',
] as const;
type Totals = Record<(typeof TOTALS)[number] | 'calls' | 'errors', number>;

const ORGS_AT_ONCE = 8;
const WRITE_ATTEMPTS = 5;
const DEFAULT_DAYS = 30;

const isoDay = z.iso.date();

export const dimensionsOf = (log: Pick<UsageLog, 'userId' | 'model'>): string[] => [
  'org',
  ...(log.userId ? [`user#${log.userId}`] : []),
  `model#${log.model}`,
];

const kindOf = (dimension: string) => dimension.split('#')[0] as DimensionKind;

const zero = (): Totals => ({
  inputTokens: 0,
  outputTokens: 0,
  totalTokens: 0,
  inputCostMicros: 0,
  outputCostMicros: 0,
  totalCostMicros: 0,
  credits: 0,
  calls: 0,
  errors: 0,
});

function checkDay(value: string) {
  if (!isoDay.safeParse(value).success)
    throw new ValidationError('A day is YYYY-MM-DD', [{ path: 'day', message: 'A UTC day, YYYY-MM-DD' }]);
}

/** Totals per dimension of one organization's logs of one day, read page by page (memory stays small). */
async function totalsOfDay(orgId: string, date: string) {
  const totals = new Map<string, Totals>();
  const query = usageDb.log.query
    .byTime({ orgId })
    .between({ requestAt: `${date}T00:00:00.000Z` }, { requestAt: `${nextDay(date)}T00:00:00.000Z` });
  let cursor: string | null = null;
  let logs = 0;
  do {
    const page: { data: UsageLog[]; cursor: string | null } = await query.go({ cursor });
    for (const log of page.data) {
      logs++;
      for (const dimension of dimensionsOf(log)) {
        const sum = totals.get(dimension) ?? zero();
        for (const field of TOTALS) sum[field] += log[field];
        sum.calls += 1;
        if (log.status !== 'success') sum.errors += 1;
        totals.set(dimension, sum);
      }
    }
    cursor = page.cursor;
  } while (cursor);
  return { totals, logs };
}

/** Replaces the day's aggregates of one organization with what its logs add up to. */
async function aggregateOrgDay(orgId: string, date: string) {
  const { totals, logs } = await totalsOfDay(orgId, date);
  const aggregatedAt = clock.nowIso();
  let pending = [...totals].map(([dimension, sum]) => ({
    orgId,
    day: date,
    dimension,
    kind: kindOf(dimension),
    ...sum,
    aggregatedAt,
  }));
  const written = pending.length;
  for (let attempt = 1; pending.length; attempt++) {
    const { unprocessed } = await usageDb.daily.put(pending).go();
    if (!unprocessed.length) break;
    if (attempt >= WRITE_ATTEMPTS)
      throw new Error(`Daily usage of ${orgId} on ${date}: ${unprocessed.length} aggregates not written`);
    const left = new Set(unprocessed.map((key) => key.dimension));
    pending = pending.filter((item) => left.has(item.dimension));
    await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
  }
  return { logs, aggregates: written };
}

/** The organizations with usage on a day, as `recordUsage` noted them (one query, no Scan). */
async function activeOrgs(date: string): Promise<string[]> {
  const { data } = await usageDb.activeDay.query.byDay({ day: date }).go({ pages: 'all' });
  return data.map((marker) => marker.orgId);
}

export interface DayAggregation {
  day: string;
  orgs: number;
  logs: number;
  aggregates: number;
}

/**
 * The daily job: rebuilds the aggregates of `day` for one organization, or for every
 * organization that had usage that day. Safe to run again at any time (late logs, retries).
 */
export async function aggregateDay(orgId: string | undefined, date: string): Promise<DayAggregation> {
  checkDay(date);
  const orgIds = orgId ? [orgId] : await activeOrgs(date);
  const outcome: DayAggregation = { day: date, orgs: orgIds.length, logs: 0, aggregates: 0 };
  let next = 0;
  const worker = async () => {
    while (next < orgIds.length) {
      const { logs, aggregates } = await aggregateOrgDay(orgIds[next++]!, date);
      outcome.logs += logs;
      outcome.aggregates += aggregates;
    }
  };
  await Promise.all(Array.from({ length: Math.min(ORGS_AT_ONCE, orgIds.length) }, worker));
  return outcome;
}

/**
 * What the daily schedule runs: yesterday (UTC), and the day before again, which takes in the
 * logs that arrived late (a recorder retrying past midnight). Both are rebuilds, so the
 * overlap with the previous run never counts a call twice.
 */
export async function dailyUsageJob(now = clock.now()): Promise<DayAggregation[]> {
  const today = now.toISOString().slice(0, 10);
  const daysBefore = (n: number) => new Date(Date.parse(`${today}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
  return [await aggregateDay(undefined, daysBefore(2)), await aggregateDay(undefined, daysBefore(1))];
}

/** `user#<UUID>` in any case names the same series as the lower-case id the logs keep. */
function normalDimension(dimension: string) {
  return dimension.startsWith('user#') ? dimension.toLowerCase() : dimension;
}

/**
 * Daily aggregates over a range of UTC days (both inclusive; by default the last 30 days),
 * oldest first, in one query: `org`, `user#<id>` or `model#<model>` is one series; `user` or
 * `model` is the breakdown of every user or model, day by day.
 */
export interface DailyUsageQuery {
  /** UTC days, both inclusive. */
  from?: string;
  to?: string;
  /** `org` (default), `user#<userId>`, `model#<model>`, or `user` / `model` for a breakdown. */
  dimension?: string;
  cursor?: string;
  limit?: number;
}

export async function getDailyUsage(orgId: string, query: DailyUsageQuery = {}) {
  const to = query.to ?? clock.nowIso().slice(0, 10);
  const from = query.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  checkDay(from);
  checkDay(to);
  if (from > to)
    throw new ValidationError('`from` must not be after `to`, which is today when not given', [
      { path: 'query.from', message: 'On or before `to` (default: today)' },
    ]);
  const dimension = normalDimension(query.dimension ?? 'org');
  const page = { cursor: query.cursor, limit: query.limit ?? DAILY_MAX_ITEMS, order: 'asc' as const };
  const { data, cursor } =
    dimension === 'user' || dimension === 'model'
      ? await pageOf(
          // Days are the first part of this sort key: the day after `to` ends the range.
          usageDb.daily.query.byDay({ orgId, kind: dimension }).between({ day: from }, { day: nextDay(to) }),
          page,
        )
      : await pageOf(usageDb.daily.query.byDimension({ orgId, dimension }).between({ day: from }, { day: to }), page);
  return { items: data as UsageDaily[], nextCursor: cursor };
}
