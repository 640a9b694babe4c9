import { Entity, type EntityItem } from 'electrodb';
import { SERVICE, entityConfig, lazy } from '../shared/dynamo.ts';
import { newId } from '../shared/ids.ts';
import { put, type WriteItem } from '../shared/transactions.ts';

/**
 * Model metrics (DOMAIN.md §3, ModelMetric). Each gateway call leaves its metric, written in the
 * same transaction as its usage log; an hourly job rolls an hour's calls up per model, for
 * the whole platform and per organization; `GET /v1/models/{modelId}/metrics` reads the roll-ups
 * of a range (one Query) plus the raw calls of the hour not yet rolled up (one Query).
 *
 * The calls of one model and hour that are recorded in one transaction (the group commit of
 * `metering.ts`) share one item, its `calls` one entry each: a call is never in two items, since
 * the item lands only with the calls' usage logs, whose keys make each record once. A Lambda
 * container records one call at a time, so there an item holds one call. On the local server,
 * which records many together, one item per call doubled DynamoDB Local's cost of a record
 * (measured: 1.2 against 0.73 ms a call, 49 calls a transaction).
 *
 * Percentiles over a range come from merged histograms: each roll-up keeps how many calls fell
 * in each latency bucket, so p50 / p95 of any set of hours is exact to the bucket (the answer
 * is the bucket's upper bound, interpolated within it).
 */
const service = SERVICE;
const config = entityConfig;

export const METRIC_STATUSES = ['SUCCESS', 'ERROR', 'TIMEOUT'] as const;
export type MetricStatus = (typeof METRIC_STATUSES)[number];

/** Upper bounds of the latency buckets, in milliseconds; the last bucket is everything above. */
export const LATENCY_BUCKETS_MS = [
  5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 20_000, 30_000, 60_000,
];
const CALL_RETENTION_DAYS = 8;
const ROLLUP_RETENTION_DAYS = 400;
/** The scope of platform-wide roll-ups (an organization's are scoped by its id). */
export const ALL = 'all';

/** `2026-11-22T10`: the UTC hour of an instant. */
export const hourOf = (instant: string | Date) => new Date(instant).toISOString().slice(0, 13);

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
        model: { entity: 'modelmetric', version: '2', service },
        attributes: {
          modelId: { type: 'string', required: true, readOnly: true },
          hour: { type: 'string', required: true, readOnly: true },
          /** The first call's start. */
          at: { type: 'string', required: true, readOnly: true },
          writeId: { type: 'string', required: true, readOnly: true },
          calls: { type: 'list', items: { type: 'map', properties: callProperties }, required: true, readOnly: true },
          ttl: { type: 'number', readOnly: true },
        },
        indexes: {
          /** A model's calls of one hour, in time order: what the roll-up and the current hour read. */
          byModelHour: {
            pk: { field: 'pk', composite: ['modelId', 'hour'], casing: 'none' },
            sk: { field: 'sk', composite: ['at', 'writeId'] },
          },
        },
      },
      config(),
    ),
);

/** Which models had calls in an hour: written once per process, model and hour; read by the roll-up job. */
const ActiveModelHourEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'modelmetrichour', version: '1', service },
        attributes: {
          hour: { type: 'string', required: true, readOnly: true },
          modelId: { type: 'string', required: true, readOnly: true },
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

export const metricsDb = {
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

export type MetricCall = EntityItem<ReturnType<typeof MetricCallsEntity>>['calls'][number] & { modelId: string };
export type MetricRollup = EntityItem<ReturnType<typeof RollupEntity>>;

export interface MetricInput {
  modelId: string;
  orgId: string;
  provider: string;
  at: string;
  latencyMs: number;
  firstTokenMs?: number;
  inputTokens: number;
  outputTokens: number;
  costMicros: number;
  status: MetricStatus;
  errorType?: string;
}

/**
 * The metrics of calls recorded together, as writes for their transaction: one item per model
 * and hour.
 */
export function metricWrites(inputs: readonly MetricInput[]): WriteItem[] {
  const groups = new Map<string, MetricInput[]>();
  for (const input of inputs) {
    const group = metricGroupOf(input);
    const members = groups.get(group);
    if (members) members.push(input);
    else groups.set(group, [input]);
  }
  return [...groups.values()].map((group) => {
    const { modelId, at } = group[0]!;
    return put(
      metricsDb.calls.create({
        modelId,
        hour: hourOf(at),
        at,
        writeId: newId('mm'),
        calls: group.map(({ modelId: _, ...call }) => ({
          ...call,
          latencyMs: Math.max(0, Math.round(call.latencyMs)),
          firstTokenMs: call.firstTokenMs === undefined ? undefined : Math.max(0, Math.round(call.firstTokenMs)),
        })),
        ttl: Math.floor(Date.parse(at) / 1000) + CALL_RETENTION_DAYS * 86_400,
      }),
    );
  });
}

/** The item a call's metric goes into, among those recorded with it. */
export const metricGroupOf = (input: Pick<MetricInput, 'modelId' | 'at'>) => `${input.modelId}|${hourOf(input.at)}`;

const markedHours = new Set<string>();
/** Notes that the model had calls this hour, for the roll-up job: once per process, model and hour. */
export async function markModelHour(modelId: string, at: string) {
  const hour = hourOf(at);
  const memo = `${hour}|${modelId}`;
  if (markedHours.has(memo)) return;
  const ttl = Math.floor(Date.parse(`${hour}:00:00Z`) / 1000) + CALL_RETENTION_DAYS * 86_400;
  await metricsDb.activeHour.put({ hour, modelId, ttl }).go({ response: 'none' });
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
      const high = LATENCY_BUCKETS_MS[i] ?? low * 2;
      return Math.round(low + ((rank - seen) / n) * (high - low));
    }
    seen += n;
  }
  return LATENCY_BUCKETS_MS.at(-1)!;
}

async function callsOf(modelId: string, hour: string): Promise<MetricCall[]> {
  const { data } = await metricsDb.calls.query.byModelHour({ modelId, hour }).go({ pages: 'all' });
  return data.flatMap((item) => item.calls.map((call) => ({ ...call, modelId })));
}

/**
 * Rolls one hour up: for each model with calls in it, the platform-wide totals and each
 * organization's. Deterministic from the calls, written with plain puts: running it twice, or
 * again once late calls arrived, gives the same roll-ups. Returns how many it wrote.
 */
export async function rollUpHour(hour: string): Promise<number> {
  const { data: models } = await metricsDb.activeHour.query.byHour({ hour }).go({ pages: 'all' });
  let written = 0;
  for (const { modelId } of models) {
    const byScope = new Map<string, Totals>([[ALL, emptyTotals()]]);
    for (const call of await callsOf(modelId, hour)) {
      addCall(byScope.get(ALL)!, call);
      if (!byScope.has(call.orgId)) byScope.set(call.orgId, emptyTotals());
      addCall(byScope.get(call.orgId)!, call);
    }
    const ttl = Math.floor(Date.parse(`${hour}:00:00Z`) / 1000) + ROLLUP_RETENTION_DAYS * 86_400;
    const items = [...byScope].map(([scope, totals]) => ({ modelId, scope, hour, ...totals, ttl }));
    await metricsDb.rollup.put(items).go();
    written += items.length;
  }
  return written;
}

/** The hourly job: rolls up the hour that just ended (and the one before, for late writers). */
export async function modelMetricsJob(now = new Date()): Promise<{ hours: string[]; rollups: number }> {
  const hours = [2, 1].map((back) => hourOf(new Date(now.getTime() - back * 3_600_000)));
  let rollups = 0;
  for (const hour of hours) rollups += await rollUpHour(hour);
  return { hours, rollups };
}

export interface MetricsSummary {
  modelId: string;
  scope: string;
  from: string;
  to: string;
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

/**
 * A model's metrics over [from, to), platform-wide (`scope` = `all`) or for one organization:
 * its hourly roll-ups, plus the calls of the current hour, which no roll-up holds yet.
 */
export async function modelMetrics(
  modelId: string,
  scope: string,
  from: Date,
  to: Date,
  now = new Date(),
): Promise<MetricsSummary> {
  const fromHour = hourOf(from);
  const lastHour = hourOf(new Date(to.getTime() - 1));
  const currentHour = hourOf(now);
  const { data: rollups } = await metricsDb.rollup.query
    .byScope({ modelId, scope })
    .between({ hour: fromHour }, { hour: lastHour })
    .go({ pages: 'all' });
  const hours = new Map<string, Totals>(rollups.filter((r) => r.hour !== currentHour).map((r) => [r.hour, r]));
  if (currentHour >= fromHour && currentHour <= lastHour) {
    const live = emptyTotals();
    for (const call of await callsOf(modelId, currentHour)) if (scope === ALL || call.orgId === scope) addCall(live, call);
    if (live.calls) hours.set(currentHour, live);
  }
  const total = emptyTotals();
  for (const totals of hours.values()) merge(total, totals);
  return {
    modelId,
    scope,
    from: from.toISOString(),
    to: to.toISOString(),
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
