import { clock } from '../shared/clock.ts';
import { conditionFailed } from '../shared/dynamo.ts';
import { ValidationError } from '../shared/errors.ts';
import { usageDb, type DimensionKind, type UsageDaily, type UsageLog } from './entities.ts';
import { pageOf } from '../shared/pages.ts';
import { FIRST_DAY } from '../shared/schemas.ts';
import { DAILY_MAX_ITEMS, endOfDay, usageDay } from './schemas.ts';

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
/** Aggregates of one organization written at once (by each of `ORGS_AT_ONCE`). */
const WRITES_AT_ONCE = 8;
const DEFAULT_DAYS = 30;

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
  if (!usageDay.safeParse(value).success)
    throw new ValidationError('A day is YYYY-MM-DD', [{ path: 'day', message: 'A UTC day, YYYY-MM-DD, in years 0001–9999' }]);
}

/** Totals per dimension of one organization's logs of one day, read page by page (memory stays small). */
async function totalsOfDay(orgId: string, date: string) {
  const totals = new Map<string, Totals>();
  const query = usageDb.log.query
    .byTime({ orgId })
    .between({ requestAt: `${date}T00:00:00.000Z` }, { requestAt: endOfDay(date) });
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

/**
 * Replaces the day's aggregates of one organization with what its logs add up to.
 *
 * Two rebuilds of a day may run at once (the schedule delivered twice, a manual run), with a
 * late log landing between their reads, and either may read last: logs are only ever added,
 * never changed or deleted, so of two rebuilds the one that counted more calls in a dimension
 * read all the other did. Each aggregate is written only over one of no more calls; a write
 * refused is a fuller rebuild's, already in place. No aggregate ever loses its dimension: a
 * rebuild has nothing to remove. `aggregatedAt` says when the rebuild started.
 */
async function aggregateOrgDay(orgId: string, date: string) {
  const aggregatedAt = clock.nowIso();
  const { totals, logs } = await totalsOfDay(orgId, date);
  const items = [...totals].map(([dimension, sum]) => ({
    orgId,
    day: date,
    dimension,
    kind: kindOf(dimension),
    ...sum,
    aggregatedAt,
  }));
  // Conditional puts, a few at once: a BatchWrite cannot carry a condition, and a transaction
  // would be refused whole for one aggregate a fuller rebuild wrote (and cost twice the writes).
  let next = 0;
  const writer = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await usageDb.daily
        .put(item)
        .where((attr, { notExists, lte }) => `${notExists(attr.calls)} OR ${lte(attr.calls, item.calls)}`)
        .go({ response: 'none' })
        .catch((error: unknown) => {
          if (!conditionFailed(error)) throw error;
        });
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITES_AT_ONCE, items.length) }, writer));
  return { logs, aggregates: items.length };
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
 * Rebuilds the aggregates of `date` for each of `orgIds`, a few at once. Once `outOfTime` says
 * so it takes up no more organizations and finishes those under way: `left` says how many it
 * did not rebuild.
 */
async function aggregateOrgs(orgIds: string[], date: string, outOfTime: () => boolean) {
  const outcome: DayAggregation = { day: date, orgs: orgIds.length, logs: 0, aggregates: 0 };
  let next = 0;
  const worker = async () => {
    while (next < orgIds.length && !outOfTime()) {
      const { logs, aggregates } = await aggregateOrgDay(orgIds[next++]!, date);
      outcome.logs += logs;
      outcome.aggregates += aggregates;
    }
  };
  await Promise.all(Array.from({ length: Math.min(ORGS_AT_ONCE, orgIds.length) }, worker));
  return { outcome, left: orgIds.length - next };
}

/**
 * The daily job: rebuilds the aggregates of `day` for one organization, or for every
 * organization that had usage that day. Safe to run again at any time (late logs, retries).
 */
export async function aggregateDay(orgId: string | undefined, date: string): Promise<DayAggregation> {
  checkDay(date);
  return (await aggregateOrgs(orgId ? [orgId] : await activeOrgs(date), date, () => false)).outcome;
}

const DAILY_JOB = 'daily-usage';
/** Days one run rebuilds at most: a month missed is caught up at once, a longer outage over a few runs. */
export const DAILY_JOB_MAX_DAYS = 31;
/** The organizations active on a day are known that long (`usageday` TTL): older days cannot be rebuilt. */
const CATCH_UP_DAYS = 400;

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/**
 * The days a run rebuilds, oldest first: from the last day aggregated before (again, to take
 * in logs that arrived late, a recorder retrying past midnight) through yesterday, UTC. A
 * schedule that missed runs catches up from there, `DAILY_JOB_MAX_DAYS` a run. With nothing
 * behind (or no earlier run), yesterday and the day before.
 */
export function daysToAggregate(today: string, aggregatedThrough: string | undefined): string[] {
  const yesterday = addDays(today, -1);
  const behind = aggregatedThrough !== undefined && aggregatedThrough < addDays(yesterday, -1);
  const first = behind ? [aggregatedThrough, addDays(today, -CATCH_UP_DAYS)].sort().at(-1)! : addDays(yesterday, -1);
  const days: string[] = [];
  for (let day = first; day <= yesterday && days.length < DAILY_JOB_MAX_DAYS; day = addDays(day, 1)) days.push(day);
  return days;
}

export interface DailyUsageReport {
  /** The days rebuilt whole, oldest first. */
  days: DayAggregation[];
  /** Days of this run's range not rebuilt whole because its time was nearly spent: the next run starts with them. */
  leftForNextRun: number;
}

/**
 * What the daily schedule runs: the days of `daysToAggregate`, one after another, noting after
 * each how far it got (a run cut short resumes there). Every day is a rebuild, so the overlap
 * with the previous run never counts a call twice. Once `outOfTime` says so it takes up no
 * more organizations nor days; a day it stopped in is not noted as done, so the next run
 * rebuilds it again, whole.
 */
export async function dailyUsageJob(now = clock.now(), outOfTime: () => boolean = () => false): Promise<DailyUsageReport> {
  const { data: progress } = await usageDb.job.get({ job: DAILY_JOB }).go({ consistent: true });
  const range = daysToAggregate(now.toISOString().slice(0, 10), progress?.aggregatedThrough);
  const days: DayAggregation[] = [];
  for (const day of range) {
    if (outOfTime()) break;
    const { outcome, left } = await aggregateOrgs(await activeOrgs(day), day, outOfTime);
    if (left) break;
    days.push(outcome);
    await usageDb.job.put({ job: DAILY_JOB, aggregatedThrough: day, updatedAt: clock.nowIso() }).go({ response: 'none' });
  }
  return { days, leftForNextRun: range.length - days.length };
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

/** 30 days up to `to`, not before the first day there is. */
function defaultFrom(to: string) {
  const from = addDays(to, -(DEFAULT_DAYS - 1));
  return from > FIRST_DAY ? from : FIRST_DAY; // a year before 0001 (`-000001-…`) sorts first too
}

export async function getDailyUsage(orgId: string, query: DailyUsageQuery = {}) {
  const to = query.to ?? clock.nowIso().slice(0, 10);
  const from = query.from ?? defaultFrom(to);
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
          // Days are the first part of this sort key, then `#dimension_…`: `~` sorts after that `#`,
          // so the bound takes in every dimension of `to` and nothing of the day after.
          usageDb.daily.query.byDay({ orgId, kind: dimension }).between({ day: from }, { day: `${to}~` }),
          page,
        )
      : await pageOf(usageDb.daily.query.byDimension({ orgId, dimension }).between({ day: from }, { day: to }), page);
  return { items: data as UsageDaily[], nextCursor: cursor };
}
