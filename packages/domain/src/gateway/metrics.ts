import { type EntityItem } from 'electrodb';
import { clock } from '../shared/clock.ts';
import { Entity, SERVICE, conditionFailed, entityConfig, lazy } from '../shared/dynamo.ts';
import { newId, shardOf } from '../shared/ids.ts';
import { put, type WriteItem } from '../shared/transactions.ts';
import { GATEWAY_TIMEOUT_SECONDS } from './timeouts.ts';

/**
 * Model metrics (DOMAIN.md §3, ModelMetric). Each gateway call leaves its metric (and a failed
 * one for each model it fell back from: `passedOver` in `metering.ts`), written in the same
 * transaction as its usage log. A job (every minute on AWS) rolls the calls up per model
 * and hour, for the whole platform and per organization, carrying each roll-up forward from
 * where it stopped; `GET /v1/models/{modelId}/metrics` reads the roll-ups of a range (one
 * Query), and for an organization the calls of the current hour recorded since (one Query, one
 * page). Neither reads more as traffic grows: the route reads at most one page, and the job
 * reads each call once. An organization's latest calls start where the platform-wide roll-up
 * of the hour got to (read with the caller's authorization), since the job moves every
 * organization's roll-up past a time before the platform's: a quiet organization, whose own
 * roll-up has not moved for a while, reads the latest minute of its shard's calls, not all
 * since its last. Platform-wide, the current hour is its roll-up, at most about a minute behind.
 *
 * The calls of a model and hour are spread over `METRIC_SHARDS` partitions by organization:
 * the metric is written in the record's transaction, at two write units, and one partition
 * takes 1,000 a second, so a single partition would cap a model at about 500 calls a second,
 * platform-wide, and throttling there would fail whole records. Its sort key grows with time,
 * so DynamoDB's split for heat could not spread it. An organization's calls stay in one shard,
 * which its read of the latest calls needs; the job reads every shard of an active model (most
 * of them empty Queries, at half a read unit each).
 *
 * Calls are filed by when they were recorded (`recordedAt`), not when they started: a roll-up
 * that reached time T has counted every call recorded before T, and a call recorded later
 * cannot land behind it. The job stops `SETTLE_MS` short of its clock, the time a record surely
 * takes to land once stamped.
 *
 * The calls of one model, hour and shard that are recorded in one transaction (the group
 * commit of `metering.ts`) share one item, its `calls` one entry each: a call is never in two items,
 * since the item lands only with the calls' usage logs, whose keys make each record once. A
 * Lambda container records one call at a time, so there an item holds one call. On the local
 * server, which records many together, one item per call doubled DynamoDB Local's cost of a
 * record (measured: 1.2 against 0.73 ms a call, 49 calls a transaction). An index per
 * organization would have served an organization's latest calls too, but at one more write per
 * call, on the gateway's hot path.
 *
 * Percentiles over a range come from merged histograms: each roll-up keeps how many calls fell
 * in each latency bucket, so p50 / p95 of any set of hours is exact to the bucket (the answer
 * is the bucket's upper bound, interpolated within it).
 */
const service = SERVICE;
const config = entityConfig;

export const METRIC_STATUSES = ['SUCCESS', 'ERROR', 'TIMEOUT'] as const;
export type MetricStatus = (typeof METRIC_STATUSES)[number];

/**
 * Upper bounds of the latency buckets, in milliseconds, up to the gateway's time limit (a long
 * stream runs for minutes); the last bucket is everything above, which no call should reach.
 * Roll-ups store their histogram by index: new bounds go at the end only, so a stored histogram
 * keeps its meaning (its overflow, counted before the bounds above 60 s, reads as 60 to 90 s).
 */
// prettier-ignore
export const LATENCY_BUCKETS_MS = [
  5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 20_000, 30_000, 60_000,
  90_000, 120_000, 180_000, 240_000, GATEWAY_TIMEOUT_SECONDS * 1_000,
];
const CALL_RETENTION_DAYS = 8;
const ROLLUP_RETENTION_DAYS = 400;
/** The scope of platform-wide roll-ups (an organization's are scoped by its id). */
export const ALL = 'all';
/** How long a record stamped `recordedAt` may take to land: the job rolls up to its clock minus this. */
export const SETTLE_MS = 15_000;
/** The most items the route reads of the current hour's latest calls: one page, whatever the traffic. */
export const TAIL_ITEMS = 1_000;
/** The partitions a model's calls of an hour are spread over, by organization. */
export const METRIC_SHARDS = 16;
const shards = new Map<string, number>();
/** The shard of an organization's calls (remembered: a record asks three times, and a hash costs 2.5 µs). */
export function metricShardOf(orgId: string): number {
  let shard = shards.get(orgId);
  if (shard === undefined) {
    if (shards.size >= 10_000) shards.clear();
    shard = shardOf(orgId, METRIC_SHARDS);
    shards.set(orgId, shard);
  }
  return shard;
}
const SHARDS = Array.from({ length: METRIC_SHARDS }, (_, shard) => shard);

/** `2026-11-22T10`: the UTC hour of an instant. */
export const hourOf = (instant: string | number | Date) => new Date(instant).toISOString().slice(0, 13);
const hourStart = (hour: string) => Date.parse(`${hour}:00:00Z`);

/** What is kept of each call. */
const callProperties = {
  at: { type: 'string', required: true },
  orgId: { type: 'string', required: true },
  provider: { type: 'string', required: true },
  latencyMs: { type: 'number', required: true },
  /** Streams: time to the first token. */
  firstTokenMs: { type: 'number' },
  inputTokens: { type: 'number', required: true },
  outputTokens: { type: 'number', required: true },
  costMicros: { type: 'number', required: true },
  status: { type: METRIC_STATUSES, required: true },
  errorType: { type: 'string' },
} as const;

const MetricCallsEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'modelmetric', version: '3', service },
        attributes: {
          modelId: { type: 'string', required: true, readOnly: true },
          /** The hour of `recordedAt`. */
          hour: { type: 'string', required: true, readOnly: true },
          /** `metricShardOf` the calls' organization. */
          shard: { type: 'number', required: true, readOnly: true },
          /** When the calls were recorded (the latest of them). */
          recordedAt: { type: 'string', required: true, readOnly: true },
          writeId: { type: 'string', required: true, readOnly: true },
          calls: { type: 'list', items: { type: 'map', properties: callProperties }, required: true, readOnly: true },
          ttl: { type: 'number', readOnly: true },
        },
        indexes: {
          /** A model's calls of one hour and shard, in the order they were recorded: what the job and the route read. */
          byModelHour: {
            pk: { field: 'pk', composite: ['modelId', 'hour', 'shard'], casing: 'none' },
            sk: { field: 'sk', composite: ['recordedAt', 'writeId'] },
          },
        },
      },
      config(),
    ),
);

/**
 * Which models had calls in an hour, and how far the job has rolled each up (`upTo`): written
 * once per process, model and hour; read by the job, which reads each of the model's shards.
 * (Noting the shards used too would update one item per process, model and shard at the top
 * of each hour: a hot item on a popular model.)
 */
const ActiveModelHourEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'modelmetrichour', version: '1', service },
        attributes: {
          hour: { type: 'string', required: true, readOnly: true },
          modelId: { type: 'string', required: true, readOnly: true },
          /** The job has rolled up every call of the hour recorded before this. */
          upTo: { type: 'string' },
          ttl: { type: 'number' },
        },
        indexes: {
          byHour: { pk: { field: 'pk', composite: ['hour'] }, sk: { field: 'sk', composite: ['modelId'], casing: 'none' } },
        },
      },
      config(),
    ),
);

const RollupEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'modelmetricrollup', version: '1', service },
        attributes: {
          modelId: { type: 'string', required: true, readOnly: true },
          /** `all`, or an organization id. */
          scope: { type: 'string', required: true, readOnly: true },
          hour: { type: 'string', required: true, readOnly: true },
          /** It counts the calls of its scope recorded before this: all of the hour's once it reaches the hour's end. */
          upTo: { type: 'string' },
          calls: { type: 'number', required: true },
          errors: { type: 'number', required: true },
          timeouts: { type: 'number', required: true },
          inputTokens: { type: 'number', required: true },
          outputTokens: { type: 'number', required: true },
          costMicros: { type: 'number', required: true },
          latencySumMs: { type: 'number', required: true },
          /** Calls per latency bucket (LATENCY_BUCKETS_MS, then the overflow). */
          histogram: { type: 'list', items: { type: 'number' }, required: true },
          errorTypes: { type: 'any' },
          ttl: { type: 'number' },
        },
        indexes: {
          byScope: {
            pk: { field: 'pk', composite: ['modelId', 'scope'], casing: 'none' },
            sk: { field: 'sk', composite: ['hour'] },
          },
        },
      },
      config(),
    ),
);

/**
 * How far the job has got over the hours: the last hour it completed (every marker of it carried
 * to the hour's end). One item, moved only forward. A run catches up on the hours after it that
 * came before the last two (runs missed for more than an hour: a failed deployment, throttling).
 */
const MetricsJobEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'modelmetricjob', version: '1', service },
        attributes: {
          completedHour: { type: 'string' },
        },
        indexes: { byJob: { pk: { field: 'pk', composite: [] }, sk: { field: 'sk', composite: [] } } },
      },
      config(),
    ),
);

export const metricsDb = {
  get job() {
    return MetricsJobEntity();
  },
  get calls() {
    return MetricCallsEntity();
  },
  get activeHour() {
    return ActiveModelHourEntity();
  },
  get rollup() {
    return RollupEntity();
  },
};

type CallsItem = EntityItem<ReturnType<typeof MetricCallsEntity>>;
type MetricCall = CallsItem['calls'][number];
/** A call with when it was recorded (its item's). */
type RecordedCall = MetricCall & { recordedAt: string };
const recordedCalls = (items: CallsItem[]): RecordedCall[] =>
  items.flatMap((item) => item.calls.map((call) => ({ ...call, recordedAt: item.recordedAt })));
export type MetricRollup = EntityItem<ReturnType<typeof RollupEntity>>;

export interface MetricInput {
  modelId: string;
  orgId: string;
  provider: string;
  /** When the call started. */
  at: string;
  /** When the call was recorded (the transaction that writes its metric is sent just after). */
  recordedAt: string;
  latencyMs: number;
  firstTokenMs?: number;
  inputTokens: number;
  outputTokens: number;
  costMicros: number;
  status: MetricStatus;
  errorType?: string;
}

/**
 * The metrics of calls recorded together, as writes for their transaction: one item per model,
 * hour and shard.
 */
export function metricWrites(inputs: readonly MetricInput[]): WriteItem[] {
  return [...groupBy(inputs, metricGroupOf).values()].map((group) => {
    const { modelId, orgId } = group[0]!;
    const recordedAt = group.reduce((latest, input) => (input.recordedAt > latest ? input.recordedAt : latest), '');
    return put(
      metricsDb.calls.create({
        modelId,
        hour: hourOf(recordedAt),
        shard: metricShardOf(orgId),
        recordedAt,
        writeId: newId('mm'),
        calls: group.map(({ modelId: _m, recordedAt: _r, ...call }) => ({
          ...call,
          latencyMs: Math.max(0, Math.round(call.latencyMs)),
          firstTokenMs: call.firstTokenMs === undefined ? undefined : Math.max(0, Math.round(call.firstTokenMs)),
        })),
        ttl: Math.floor(Date.parse(recordedAt) / 1000) + CALL_RETENTION_DAYS * 86_400,
      }),
    );
  });
}

/** Items by key, in the order they came. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const members = groups.get(key);
    if (members) members.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** The item a call's metric goes into, among those recorded with it. */
export const metricGroupOf = (input: Pick<MetricInput, 'modelId' | 'orgId' | 'recordedAt'>) =>
  `${input.modelId}|${hourOf(input.recordedAt)}|${metricShardOf(input.orgId)}`;

const markedHours = new Set<string>();
/**
 * Notes that the model had calls recorded in the hour of `recordedAt`, for the job: once per
 * process, model and hour. An update, so that it never resets how far the job has got.
 */
export async function markModelHour({ modelId, recordedAt }: Pick<MetricInput, 'modelId' | 'recordedAt'>) {
  const hour = hourOf(recordedAt);
  const memo = `${hour}|${modelId}`;
  if (markedHours.has(memo)) return;
  const ttl = Math.floor(hourStart(hour) / 1000) + CALL_RETENTION_DAYS * 86_400;
  await metricsDb.activeHour.update({ hour, modelId }).set({ ttl }).go({ response: 'none' });
  if (markedHours.size >= 10_000) markedHours.clear();
  markedHours.add(memo);
}

type Totals = Omit<MetricRollup, 'modelId' | 'scope' | 'hour' | 'ttl'>;

const emptyTotals = (): Totals => ({
  calls: 0,
  errors: 0,
  timeouts: 0,
  inputTokens: 0,
  outputTokens: 0,
  costMicros: 0,
  latencySumMs: 0,
  histogram: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0),
  errorTypes: {},
});

export function bucketOf(latencyMs: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((bound) => latencyMs <= bound);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

function addCall(
  totals: Totals,
  call: Pick<MetricCall, 'status' | 'latencyMs' | 'inputTokens' | 'outputTokens' | 'costMicros' | 'errorType'>,
) {
  totals.calls += 1;
  if (call.status === 'ERROR') totals.errors += 1;
  if (call.status === 'TIMEOUT') totals.timeouts += 1;
  totals.inputTokens += call.inputTokens;
  totals.outputTokens += call.outputTokens;
  totals.costMicros += call.costMicros;
  totals.latencySumMs += call.latencyMs;
  totals.histogram[bucketOf(call.latencyMs)]! += 1;
  if (call.errorType) {
    const types = totals.errorTypes as Record<string, number>;
    types[call.errorType] = (types[call.errorType] ?? 0) + 1;
  }
}

function merge(into: Totals, from: Totals) {
  into.calls += from.calls;
  into.errors += from.errors;
  into.timeouts += from.timeouts;
  into.inputTokens += from.inputTokens;
  into.outputTokens += from.outputTokens;
  into.costMicros += from.costMicros;
  into.latencySumMs += from.latencySumMs;
  from.histogram.forEach((n, i) => (into.histogram[i]! += n));
  for (const [type, n] of Object.entries((from.errorTypes ?? {}) as Record<string, number>)) {
    const types = into.errorTypes as Record<string, number>;
    types[type] = (types[type] ?? 0) + n;
  }
}

/** The latency under which `q` of the calls fell, interpolated within its bucket. */
export function percentile(histogram: number[], q: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (!total) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    const n = histogram[i]!;
    if (seen + n >= rank && n > 0) {
      const low = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1]!;
      // Above the last bound (the gateway's limit) there is nothing to interpolate to.
      const high = LATENCY_BUCKETS_MS[i] ?? low;
      return Math.round(low + ((rank - seen) / n) * (high - low));
    }
    seen += n;
  }
  return LATENCY_BUCKETS_MS.at(-1)!;
}

/** A roll-up's counts, without its key; a histogram stored with fewer buckets gets the new ones, empty. */
const totalsOf = ({ modelId: _m, scope: _s, hour: _h, upTo: _u, ttl: _t, ...totals }: MetricRollup): Totals => ({
  ...totals,
  histogram: emptyTotals().histogram.map((empty, i) => totals.histogram[i] ?? empty),
});

/** The roll-ups of these keys that exist, read consistently (what DynamoDB leaves unprocessed is asked again). */
async function rollupsOf(keys: Array<Pick<MetricRollup, 'modelId' | 'scope' | 'hour'>>): Promise<MetricRollup[]> {
  const found: MetricRollup[] = [];
  for (let pending = keys, attempt = 0; pending.length; attempt++) {
    if (attempt) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
    const { data, unprocessed } = await metricsDb.rollup.get(pending).go({ consistent: true });
    found.push(...data);
    pending = unprocessed;
  }
  return found;
}

const ROLLUP_WRITE_ATTEMPTS = 5;
/** Scopes rewritten at once. */
const ROLLUP_WRITES_AT_ONCE = 25;

/**
 * Carries one scope's roll-up of an hour forward to `upTo` with its `calls`: it counts those
 * recorded at or after its own `upTo`, and is rewritten on the condition that its `upTo` is
 * still the one read. So a run that stopped halfway, or two runs at once, count each call once.
 * Answers whether it wrote.
 */
async function carryRollup(
  key: Pick<MetricRollup, 'modelId' | 'scope' | 'hour'>,
  calls: RecordedCall[],
  upTo: string,
  rollup?: MetricRollup,
) {
  const ttl = Math.floor(hourStart(key.hour) / 1000) + ROLLUP_RETENTION_DAYS * 86_400;
  for (let attempt = 1; ; attempt++) {
    const seen = rollup?.upTo ?? '';
    if (rollup && seen >= upTo) return false;
    const totals = rollup ? totalsOf(rollup) : emptyTotals();
    for (const call of calls) if (call.recordedAt >= seen) addCall(totals, call);
    const next = { ...key, upTo, ...totals, ttl };
    try {
      if (rollup)
        await metricsDb.rollup
          .put(next)
          .where(({ upTo: at }, { eq, notExists }) => (seen ? eq(at, seen) : notExists(at)))
          .go({ response: 'none' });
      else await metricsDb.rollup.create(next).go({ response: 'none' });
      return true;
    } catch (error) {
      if (!conditionFailed(error) || attempt >= ROLLUP_WRITE_ATTEMPTS) throw error;
      rollup = (await metricsDb.rollup.get(key).go({ consistent: true })).data ?? undefined;
    }
  }
}

/**
 * Carries the roll-ups of one model and hour forward to `upTo`, from the calls recorded since
 * `from` (where the job last got to for it) in each shard: those of each organization with calls among them,
 * then the platform's. An organization without calls since `from` keeps its roll-up as it is:
 * it had none in between either, since a run that sees an organization's calls moves its
 * roll-up before the model's `from`. And the platform's roll-up moves last, so every
 * organization's calls recorded before the platform's `upTo` are in its own roll-up (what the
 * route's read of an organization's latest calls relies on). Returns how many roll-ups it wrote.
 */
async function carryForward(modelId: string, hour: string, from: string, upTo: string): Promise<number> {
  const pages = await Promise.all(
    SHARDS.map((shard) =>
      metricsDb.calls.query
        .byModelHour({ modelId, hour, shard })
        .between({ recordedAt: from }, { recordedAt: upTo })
        .go({ pages: 'all' }),
    ),
  );
  const items = pages.flatMap((page) => page.data);
  const calls = recordedCalls(items.filter((item) => item.recordedAt >= from && item.recordedAt < upTo));
  if (!calls.length) return 0;
  const byOrg = groupBy(calls, (call) => call.orgId);
  const orgs = [...byOrg.keys()];
  const existing = new Map((await rollupsOf([ALL, ...orgs].map((scope) => ({ modelId, scope, hour })))).map((r) => [r.scope, r]));
  const carry = (scope: string, scoped: RecordedCall[]) =>
    carryRollup({ modelId, scope, hour }, scoped, upTo, existing.get(scope));
  let written = 0;
  for (let i = 0; i < orgs.length; i += ROLLUP_WRITES_AT_ONCE) {
    const wrote = await Promise.all(orgs.slice(i, i + ROLLUP_WRITES_AT_ONCE).map((org) => carry(org, byOrg.get(org)!)));
    written += wrote.filter(Boolean).length;
  }
  if (await carry(ALL, calls)) written++;
  return written;
}

const HOUR_MS = 3_600_000;
/** The most missed hours with calls to roll up that one run carries (an hour with none costs it one Query). */
export const CATCH_UP_HOURS = 24;
/** Missed hours whose markers a run reads at once. */
const MARKER_READS_AT_ONCE = 24;

/**
 * Carries the roll-ups of every model marked in `hour` (`markers`) forward to `upTo`; answers how
 * many models and roll-ups it moved, and how many models it left behind once `outOfTime` said
 * so (their markers keep where they got to, for the next run).
 */
async function carryHour(
  hour: string,
  markers: Array<{ modelId: string; upTo?: string }>,
  upTo: string,
  outOfTime: () => boolean,
) {
  let models = 0;
  let rollups = 0;
  for (const [i, { modelId, upTo: from }] of markers.entries()) {
    if (from !== undefined && from >= upTo) continue;
    if (outOfTime())
      return { models, rollups, left: markers.slice(i).filter((m) => m.upTo === undefined || m.upTo < upTo).length };
    rollups += await carryForward(modelId, hour, from ?? '', upTo);
    models++;
    // Only forward: a slower run that got less far leaves it (its roll-ups were conditional all the same).
    await metricsDb.activeHour
      .patch({ hour, modelId })
      .set({ upTo })
      .where(({ upTo: at }, { notExists, lt }) => `${notExists(at)} OR ${lt(at, upTo)}`)
      .go({ response: 'none' })
      .catch((error: unknown) => {
        if (!conditionFailed(error)) throw error;
      });
  }
  return { models, rollups, left: 0 };
}

const markersOf = (hour: string) =>
  metricsDb.activeHour.query
    .byHour({ hour })
    .go({ pages: 'all' })
    .then(({ data }) => data);
const unfinished = (markers: Array<{ upTo?: string }>, upTo: string) =>
  markers.some((m) => m.upTo === undefined || m.upTo < upTo);

/**
 * The job (every minute on AWS, `npm run job -- model-metrics` locally): carries the roll-ups
 * of the current hour, and of the one before until they hold all of it, forward to `SETTLE_MS`
 * before `now`. It reads each call once; running it twice, or two at once, changes nothing.
 *
 * Runs missed for more than an hour leave whole hours behind: a run first finishes the hours
 * between the last one completed (`metricsDb.job`) and the hour before, oldest first, as far
 * back as calls are kept, carrying at most `CATCH_UP_HOURS` of them that had calls (the next run
 * goes on from there). The hour before is always visited again, for a marker that lands late.
 * A watermark not before the hour before (the usual case, or a run whose clock is behind
 * another's) leaves just the two.
 *
 * Once `outOfTime` says so, it takes up no more hours nor models (each roll-up written is one
 * conditional write, and a marker moves only after its model's roll-ups): `leftForNextRun`
 * counts the hours it did not carry whole, which the watermark does not pass.
 */
export async function modelMetricsJob(
  now = clock.now(),
  outOfTime: () => boolean = () => false,
): Promise<{ hours: string[]; models: number; rollups: number; leftForNextRun: number }> {
  const cutoff = now.getTime() - SETTLE_MS;
  const previous = hourOf(cutoff - HOUR_MS);
  const current = hourOf(cutoff);
  const { data: state } = await metricsDb.job.get({}).go({ consistent: true });
  const completed = state?.completedHour;
  const missed: string[] = [];
  if (completed !== undefined && completed < previous) {
    const kept = hourStart(hourOf(cutoff - CALL_RETENTION_DAYS * 86_400_000));
    for (let at = Math.max(hourStart(completed) + HOUR_MS, kept); at < hourStart(previous); at += HOUR_MS)
      missed.push(hourOf(at));
  }

  const hours: string[] = [];
  let models = 0;
  let rollups = 0;
  /** Whether the hour was carried whole. */
  const visit = async (hour: string, markers: Array<{ modelId: string; upTo?: string }>) => {
    const upTo = new Date(Math.min(cutoff, hourStart(hour) + HOUR_MS)).toISOString();
    const moved = await carryHour(hour, markers, upTo, outOfTime);
    models += moved.models;
    rollups += moved.rollups;
    hours.push(hour);
    return moved.left === 0;
  };
  // The last missed hour done, in order: the watermark moves to it when the run stops short.
  let done = completed;
  let stoppedShort = false;
  let carried = 0;
  let leftForNextRun = 0;
  catchUp: for (let i = 0; i < missed.length; i += MARKER_READS_AT_ONCE) {
    if (outOfTime()) {
      stoppedShort = true;
      leftForNextRun += missed.length - i;
      break;
    }
    const batch = missed.slice(i, i + MARKER_READS_AT_ONCE);
    const markers = await Promise.all(batch.map(markersOf));
    for (const [j, hour] of batch.entries()) {
      if (unfinished(markers[j]!, new Date(hourStart(hour) + HOUR_MS).toISOString())) {
        if (carried === CATCH_UP_HOURS || outOfTime() || !(await visit(hour, markers[j]!))) {
          stoppedShort = true;
          leftForNextRun += missed.length - (i + j);
          break catchUp;
        }
        carried++;
      }
      done = hour;
    }
  }
  let previousWhole = false;
  for (const hour of [previous, current]) {
    const whole = !outOfTime() && (await visit(hour, await markersOf(hour)));
    if (!whole) leftForNextRun++;
    if (hour === previous) previousWhole = whole;
  }

  // Every missed hour done: the hour before is complete too (its end has settled, and every
  // marker of it read is carried there), once carried whole.
  const reached = stoppedShort || !previousWhole ? done : previous;
  if (reached !== undefined && (completed === undefined || reached > completed))
    await metricsDb.job
      .update({})
      .set({ completedHour: reached })
      .where(({ completedHour: at }, { notExists, lt }) => `${notExists(at)} OR ${lt(at, reached)}`)
      .go({ response: 'none' })
      .catch((error: unknown) => {
        if (!conditionFailed(error)) throw error;
      });
  return { hours, models, rollups, leftForNextRun };
}

export interface MetricsSummary {
  modelId: string;
  scope: string;
  from: string;
  to: string;
  /**
   * Every call of the current hour recorded before this is counted: for an organization, now
   * unless its latest calls held more than one read; platform-wide, where the roll-up got to.
   */
  asOf: string;
  calls: number;
  errors: number;
  timeouts: number;
  errorRate: number;
  latencyMs: { p50: number | null; p95: number | null; mean: number | null };
  tokens: { input: number; output: number; total: number };
  costMicros: number;
  errorTypes: Record<string, number>;
  hourly: Array<{ hour: string; calls: number; errors: number; p50: number | null; p95: number | null; costMicros: number }>;
}

export interface MetricsReadOptions {
  now?: Date;
  /** The most items of the current hour's latest calls read: one page. */
  tailItems?: number;
  /**
   * For an organization's metrics: the platform-wide roll-up of the current hour, as read with
   * the caller's authorization (`platformRollupRead`, strongly consistent like every
   * transaction). Read here when not given.
   */
  platform?: MetricRollup | null;
}

/** The read of a model's platform-wide roll-up of the current hour, to go in one request with an organization's authorization. */
export const platformRollupRead = (modelId: string, now: Date) => ({
  op: metricsDb.rollup.get({ modelId, scope: ALL, hour: hourOf(now) }),
  entity: metricsDb.rollup,
});

/**
 * A model's metrics over [from, to) in whole hours, platform-wide (`scope` = `all`) or for one
 * organization, from its hourly roll-ups: `from` rounded down to the start of its hour, `to` up
 * to the end of its, and the answer says so (a roll-up cannot be cut within its hour). For an organization, the current hour adds the calls recorded
 * since, in its shard (one read of at most `tailItems` items), from where its roll-up or the
 * platform's got to, whichever is later (see `carryForward`). Platform-wide, the current hour
 * is its roll-up: its calls are spread over every shard, which one read cannot cover.
 */
export async function modelMetrics(
  modelId: string,
  scope: string,
  from: Date,
  to: Date,
  { now = clock.now(), tailItems = TAIL_ITEMS, platform }: MetricsReadOptions = {},
): Promise<MetricsSummary> {
  const fromHour = hourOf(from);
  const lastHour = hourOf(to.getTime() - 1);
  const currentHour = hourOf(now);
  const live = currentHour >= fromHour && currentHour <= lastHour;
  // The platform's roll-up first, then the scope's, consistently: the job moves the platform's
  // last, so the scope's can be no older than the platform's read before it.
  const platformRollup =
    scope === ALL || !live || platform !== undefined
      ? platform
      : (await metricsDb.rollup.get({ modelId, scope: ALL, hour: currentHour }).go({ consistent: true })).data;
  const { data: rollups } = await metricsDb.rollup.query
    .byScope({ modelId, scope })
    .between({ hour: fromHour }, { hour: lastHour })
    .go({ pages: 'all', consistent: true });
  const hours = new Map<string, Totals>(rollups.map((r) => [r.hour, totalsOf(r)]));
  let asOf = now.toISOString();
  if (live) {
    const rolled = rollups.find((r) => r.hour === currentHour);
    if (scope === ALL) asOf = rolled?.upTo ?? new Date(hourStart(currentHour)).toISOString();
    else {
      const platformUpTo = platformRollup?.hour === currentHour ? (platformRollup.upTo ?? '') : '';
      const since = [rolled?.upTo ?? '', platformUpTo].reduce((a, b) => (a > b ? a : b));
      // One item more than it counts: DynamoDB cannot say that a full page was the last.
      const { data, cursor } = await metricsDb.calls.query
        .byModelHour({ modelId, hour: currentHour, shard: metricShardOf(scope) })
        .gte({ recordedAt: since })
        .go({ limit: tailItems + 1 });
      const counted = data.slice(0, tailItems);
      const totals = rolled ? totalsOf(rolled) : emptyTotals();
      for (const call of recordedCalls(counted)) if (call.recordedAt >= since && call.orgId === scope) addCall(totals, call);
      // Items come in the order they were recorded: every call before the first one left out is counted.
      const next = data[tailItems] ?? (cursor ? counted.at(-1) : undefined);
      if (next) asOf = next.recordedAt;
      if (totals.calls) hours.set(currentHour, totals);
    }
  }
  const total = emptyTotals();
  for (const totals of hours.values()) merge(total, totals);
  return {
    modelId,
    scope,
    // The range counted: whole hours.
    from: new Date(hourStart(fromHour)).toISOString(),
    to: new Date(hourStart(lastHour) + 3_600_000).toISOString(),
    asOf,
    calls: total.calls,
    errors: total.errors,
    timeouts: total.timeouts,
    errorRate: total.calls ? (total.errors + total.timeouts) / total.calls : 0,
    latencyMs: {
      p50: percentile(total.histogram, 0.5),
      p95: percentile(total.histogram, 0.95),
      mean: total.calls ? Math.round(total.latencySumMs / total.calls) : null,
    },
    tokens: { input: total.inputTokens, output: total.outputTokens, total: total.inputTokens + total.outputTokens },
    costMicros: total.costMicros,
    errorTypes: total.errorTypes as Record<string, number>,
    hourly: [...hours]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([hour, t]) => ({
        hour,
        calls: t.calls,
        errors: t.errors + t.timeouts,
        p50: percentile(t.histogram, 0.5),
        p95: percentile(t.histogram, 0.95),
        costMicros: t.costMicros,
      })),
  };
}
