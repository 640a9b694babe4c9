import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ALL,
  CATCH_UP_HOURS,
  METRIC_SHARDS,
  SETTLE_MS,
  markModelHour,
  metricShardOf,
  metricWrites,
  metricsDb,
  modelMetrics,
  modelMetricsJob,
  type MetricInput,
} from '@platform/domain/gateway/metrics';
import { dynamo } from '@platform/domain/shared/dynamo';
import { transactWrite } from '@platform/domain/shared/transactions';

/**
 * Model metrics against DynamoDB Local: the job carries each hour's roll-ups forward a minute at
 * a time and counts every call once, however it is run; the route adds the current hour's
 * latest calls to them in one read. Calls are written as the gateway's records write them
 * (`metricWrites`, then `markModelHour`), at chosen times from an hour nine days ahead, with the
 * job and the route told what "now" is. Nine days: further than a run looks back for hours it
 * missed (the 8 days calls are kept), so the runs of other files, on the real clock, never
 * reach these hours, and these runs never reach theirs.
 */
const HOUR_MS = 3_600_000;
const H = Math.floor(Date.now() / HOUR_MS) * HOUR_MS + 9 * 24 * HOUR_MS;
/** An instant of hour H (or after it): minutes and seconds past its start. */
const at = (minutes: number, seconds = 0) => new Date(H + minutes * 60_000 + seconds * 1_000);
const iso = (minutes: number, seconds = 0) => at(minutes, seconds).toISOString();
const newOrg = () => `org_${randomUUID().replace(/-/g, '').slice(0, 26)}`;
/** A new organization whose calls go to this shard. */
function orgIn(shard: number): string {
  for (;;) {
    const orgId = newOrg();
    if (metricShardOf(orgId) === shard) return orgId;
  }
}
const newModel = () => `metrics-model-${randomUUID().slice(0, 8)}`;
const range = { from: at(0), to: at(120) };

interface Call {
  orgId: string;
  recordedAt: string;
  latencyMs?: number;
  status?: MetricInput['status'];
}

/** Records calls as the gateway does: one transaction for those given together. */
async function recordCalls(modelId: string, calls: Call[]) {
  const inputs = calls.map(({ orgId, recordedAt, latencyMs = 40, status = 'SUCCESS' }): MetricInput => ({
    modelId,
    orgId,
    provider: 'local',
    at: new Date(Date.parse(recordedAt) - latencyMs).toISOString(),
    recordedAt,
    latencyMs,
    inputTokens: 100,
    outputTokens: 10,
    costMicros: 110,
    status,
    ...(status === 'SUCCESS' ? {} : { errorType: 'server' }),
  }));
  await transactWrite(metricWrites(inputs));
  for (const input of inputs) await markModelHour(input);
}

/** What the route answers, read at `now`. */
const read = (modelId: string, scope: string, now: Date, tailItems?: number) =>
  modelMetrics(modelId, scope, range.from, range.to, { now, tailItems });
/** Read after both hours have passed: roll-ups only. */
const rolledUp = (modelId: string, scope: string) => read(modelId, scope, at(180));

describe('the model metrics job', () => {
  it('rolls an hour up per model, for the platform and each organization, once the calls have settled', async () => {
    const modelId = newModel();
    const [a, b] = [orgIn(0), orgIn(METRIC_SHARDS - 1)]; // calls in two shards, both read

    await recordCalls(modelId, [
      { orgId: a, recordedAt: iso(10), latencyMs: 30 },
      { orgId: a, recordedAt: iso(10, 1), latencyMs: 60 },
      { orgId: b, recordedAt: iso(20), latencyMs: 900, status: 'ERROR' },
    ]);
    await recordCalls(modelId, [{ orgId: b, recordedAt: iso(30) }]);

    // Calls recorded less than SETTLE_MS ago may still be landing: the job leaves them.
    await modelMetricsJob(new Date(at(30).getTime() + SETTLE_MS - 1_000));
    expect(await rolledUp(modelId, ALL)).toMatchObject({ calls: 3, errors: 1 });
    expect(await rolledUp(modelId, b)).toMatchObject({ calls: 1, errors: 1, errorTypes: { server: 1 } });

    await modelMetricsJob(at(31));
    const all = await rolledUp(modelId, ALL);
    expect(all).toMatchObject({ calls: 4, errors: 1, errorRate: 0.25, tokens: { input: 400, output: 40, total: 440 } });
    expect(all.hourly).toEqual([expect.objectContaining({ hour: iso(0).slice(0, 13), calls: 4, errors: 1 })]);
    expect(all.latencyMs.p95).toBeGreaterThan(750);
    expect(await rolledUp(modelId, a)).toMatchObject({ calls: 2, errors: 0, latencyMs: { mean: 45 } });
    expect(await rolledUp(modelId, b)).toMatchObject({ calls: 2, errors: 1 });
  });

  it('counts each call once when run again, at once, or after stopping halfway', async () => {
    const modelId = newModel();
    const [a, b, c] = [orgIn(1), orgIn(1), orgIn(2)];
    await recordCalls(modelId, [
      { orgId: a, recordedAt: iso(5) },
      { orgId: b, recordedAt: iso(6) },
    ]);
    await modelMetricsJob(at(10));
    await recordCalls(modelId, [
      { orgId: b, recordedAt: iso(12) },
      { orgId: c, recordedAt: iso(13) },
      { orgId: c, recordedAt: iso(14) },
    ]);
    await Promise.all([modelMetricsJob(at(20)), modelMetricsJob(at(20)), modelMetricsJob(at(21))]);
    await modelMetricsJob(at(21));
    const expected = { [ALL]: 5, [a]: 1, [b]: 2, [c]: 2 };
    for (const [scope, calls] of Object.entries(expected)) expect((await rolledUp(modelId, scope)).calls, scope).toBe(calls);

    // A run that stopped before noting how far it got: the next starts from further back, and
    // each roll-up still counts only what it has not.
    await recordCalls(modelId, [{ orgId: a, recordedAt: iso(25) }]);
    await metricsDb.activeHour
      .patch({ hour: iso(0).slice(0, 13), modelId })
      .set({ upTo: iso(0) })
      .go();
    await modelMetricsJob(at(30));
    expected[ALL] = 6;
    expected[a] = 2;
    for (const [scope, calls] of Object.entries(expected)) expect((await rolledUp(modelId, scope)).calls, scope).toBe(calls);
  });

  it('moves the platform-wide roll-up only after every organization’s, so a failed run leaves it behind them', async () => {
    const modelId = newModel();
    const [a, b] = [newOrg(), newOrg()];
    await recordCalls(modelId, [
      { orgId: a, recordedAt: iso(40) },
      { orgId: b, recordedAt: iso(40, 1) },
    ]);
    const stopRefusing = dynamo().observe(({ input }) => {
      if (input.Item?.scope === b) throw new Error('DynamoDB is unavailable');
    });
    try {
      await expect(modelMetricsJob(at(45))).rejects.toThrow('unavailable');
    } finally {
      stopRefusing();
    }
    const hour = iso(0).slice(0, 13);
    const platform = await metricsDb.rollup.get({ modelId, scope: ALL, hour }).go();
    expect(platform.data, 'the platform roll-up waits for every organization’s').toBeNull();
    // The next run finishes the work, each call counted once.
    await modelMetricsJob(at(46));
    for (const [scope, calls] of [
      [ALL, 2],
      [a, 1],
      [b, 1],
    ] as const)
      expect((await rolledUp(modelId, scope)).calls, scope).toBe(calls);
  });

  it('completes the hour before once its end has settled, and then leaves it', async () => {
    const modelId = newModel();
    const org = newOrg();
    await recordCalls(modelId, [{ orgId: org, recordedAt: iso(59, 59) }]);
    await recordCalls(modelId, [{ orgId: org, recordedAt: iso(60, 1) }]);
    const run = await modelMetricsJob(at(60, 30));
    expect(run.hours).toEqual([iso(0).slice(0, 13), iso(60).slice(0, 13)]);
    const hourly = (await rolledUp(modelId, org)).hourly;
    expect(hourly.map((h) => [h.hour, h.calls])).toEqual([
      [iso(0).slice(0, 13), 1],
      [iso(60).slice(0, 13), 1],
    ]);
    const { data: marker } = await metricsDb.activeHour.get({ hour: iso(0).slice(0, 13), modelId }).go();
    expect(marker?.upTo).toBe(iso(60));
    // Complete: later runs do not read it again.
    expect((await modelMetricsJob(at(61))).models).toBe(1);
  });
});

describe('GET /v1/models/{modelId}/metrics, in the current hour', () => {
  it('adds an organization’s calls recorded since the roll-up to it', async () => {
    const modelId = newModel();
    const org = newOrg();
    await recordCalls(modelId, [
      { orgId: org, recordedAt: iso(5) },
      { orgId: org, recordedAt: iso(6) },
    ]);
    await modelMetricsJob(at(10));
    await recordCalls(modelId, [{ orgId: org, recordedAt: iso(15) }]);
    await recordCalls(modelId, [{ orgId: org, recordedAt: iso(16), status: 'TIMEOUT' }]);
    const now = at(17);
    const live = await read(modelId, org, now);
    expect(live).toMatchObject({ calls: 4, timeouts: 1, asOf: now.toISOString() });
    expect(live.hourly).toHaveLength(1);
    // Platform-wide, the current hour is the roll-up, and says how far it got.
    expect(await read(modelId, ALL, now)).toMatchObject({ calls: 2, timeouts: 0, asOf: iso(9, 45) });
  });

  it('reads one page of the organization’s shard, and says up to when it counted', async () => {
    const modelId = newModel();
    const [quiet, busy, fresh] = [orgIn(3), orgIn(3), orgIn(3)];
    const elsewhere = orgIn(4);
    await recordCalls(modelId, [{ orgId: quiet, recordedAt: iso(1) }]);
    await modelMetricsJob(at(2));
    for (let second = 0; second < 5; second++) await recordCalls(modelId, [{ orgId: busy, recordedAt: iso(3, second) }]);
    await modelMetricsJob(at(4)); // the platform's roll-up and the busy organization's reach 3:45; the quiet one's stays at 1:45
    await recordCalls(modelId, [{ orgId: quiet, recordedAt: iso(5) }]);
    await recordCalls(modelId, [{ orgId: busy, recordedAt: iso(5, 10) }]);
    await recordCalls(modelId, [{ orgId: fresh, recordedAt: iso(5, 20) }]);
    for (let second = 0; second < 5; second++) await recordCalls(modelId, [{ orgId: elsewhere, recordedAt: iso(5, second) }]);
    const now = at(6);

    // An organization's latest calls start where the platform's roll-up got to, even when its
    // own stopped earlier: three items of its shard, not the eight since 1:45; another shard's
    // calls are not in its read.
    expect(await read(modelId, quiet, now, 3)).toMatchObject({ calls: 2, asOf: now.toISOString() });
    expect(await read(modelId, busy, now, 3)).toMatchObject({ calls: 6, asOf: now.toISOString() });
    expect(await read(modelId, fresh, now, 3)).toMatchObject({ calls: 1, asOf: now.toISOString() });
    expect(await read(modelId, elsewhere, now, 3)).toMatchObject({ calls: 3, asOf: iso(5, 3) });
    // One item short: what was left out counts from the next read on.
    expect(await read(modelId, quiet, now, 1)).toMatchObject({ calls: 2, asOf: iso(5, 10) });
    expect(await read(modelId, ALL, now, 1)).toMatchObject({ calls: 6, asOf: iso(3, 45) });
    await modelMetricsJob(at(7));
    expect(await read(modelId, ALL, at(7), 1)).toMatchObject({ calls: 14, asOf: iso(6, 45) });
  });
});

describe('GET /v1/models/{modelId}/metrics, over a range', () => {
  it('counts whole hours, from the start of `from`’s hour to the end of `to`’s, and answers that range', async () => {
    const modelId = newModel();
    const org = newOrg();
    await recordCalls(modelId, [
      { orgId: org, recordedAt: iso(5) },
      { orgId: org, recordedAt: iso(70) },
      { orgId: org, recordedAt: iso(130) },
    ]);
    await modelMetricsJob(at(62));
    await modelMetricsJob(at(122));
    await modelMetricsJob(at(182));
    const now = at(240);
    // Within the hours: both of them, whole, and the answer says so.
    const inside = await modelMetrics(modelId, org, at(30), at(80, 30), { now });
    expect(inside).toMatchObject({ calls: 2, from: iso(0), to: iso(120) });
    // On the hours' edges: exactly them.
    expect(await modelMetrics(modelId, org, at(60), at(120), { now })).toMatchObject({ calls: 1, from: iso(60), to: iso(120) });
  });
});

describe('GET /v1/models/{modelId}/metrics, latency percentiles', () => {
  it('of calls that ran for minutes (up to the gateway’s limit) fall within their bucket, not below 90 s', async () => {
    const modelId = newModel();
    const org = newOrg();
    await recordCalls(
      modelId,
      [5, 6, 7, 8].map((minute) => ({ orgId: org, recordedAt: iso(minute), latencyMs: 250_000 })),
    );
    await modelMetricsJob(at(62));
    const { latencyMs } = await rolledUp(modelId, org);
    expect(latencyMs.mean).toBe(250_000);
    // Every call took 250 s: both percentiles lie in the bucket from 240 s to the gateway's 300 s.
    expect(latencyMs.p50).toBeGreaterThanOrEqual(240_000);
    expect(latencyMs.p95).toBeGreaterThanOrEqual(240_000);
    expect(latencyMs.p95).toBeLessThanOrEqual(300_000);
  });

  it('still reads, and carries forward, a roll-up stored with the buckets up to 60 s only', async () => {
    const modelId = newModel();
    const org = newOrg();
    // As stored before the buckets above 60 s: 22 bounds and the overflow, one 40 ms call.
    const histogram = new Array<number>(23).fill(0);
    histogram[3] = 1;
    const stored = { calls: 1, errors: 0, timeouts: 0, inputTokens: 1, outputTokens: 1, costMicros: 1, latencySumMs: 40 };
    for (const scope of [ALL, org])
      await metricsDb.rollup.create({ modelId, scope, hour: iso(0).slice(0, 13), upTo: iso(1), ...stored, histogram }).go();
    await recordCalls(modelId, [{ orgId: org, recordedAt: iso(5), latencyMs: 250_000 }]);
    await modelMetricsJob(at(62));
    for (const scope of [ALL, org]) {
      const m = await rolledUp(modelId, scope);
      expect(m, scope).toMatchObject({ calls: 2, latencyMs: { p50: expect.any(Number), mean: 125_020 } });
      expect(m.latencyMs.p95, scope).toBeGreaterThanOrEqual(240_000);
    }
  });
});

describe('the model metrics job after missed runs', () => {
  // Hours of their own, after those of the tests above.
  const M = 12 * 60;
  const hourAt = (minutes: number) => iso(minutes).slice(0, 13);

  it('rolls up the hours it missed, one it ran in and one it never ran in, once it runs again', async () => {
    const modelId = newModel();
    const [a, b] = [newOrg(), newOrg()];
    await recordCalls(modelId, [{ orgId: a, recordedAt: iso(M + 10) }]);
    await recordCalls(modelId, [{ orgId: a, recordedAt: iso(M + 20) }]);
    await recordCalls(modelId, [{ orgId: b, recordedAt: iso(M + 70) }]);
    // A run just as the first hour starts (its calls not yet recorded), then none for almost three hours.
    await modelMetricsJob(at(M + 5));
    const late = await modelMetricsJob(at(M + 180));
    const read = (scope: string) => modelMetrics(modelId, scope, at(M), at(M + 120), { now: at(M + 240) });
    expect((await read(ALL)).hourly.map((h) => [h.hour, h.calls])).toEqual([
      [hourAt(M), 2],
      [hourAt(M + 60), 1],
    ]);
    expect((await read(a)).calls).toBe(2);
    expect((await read(b)).calls).toBe(1);
    expect(late.hours).toEqual(expect.arrayContaining([hourAt(M), hourAt(M + 60)]));
    // Once caught up, runs again, at once or later, count nothing twice.
    await Promise.all([modelMetricsJob(at(M + 181)), modelMetricsJob(at(M + 181))]);
    await modelMetricsJob(at(M + 300));
    expect((await read(ALL)).calls).toBe(3);
  });

  it('catches up on at most CATCH_UP_HOURS hours with calls a run, and the next run goes on from there', async () => {
    const modelId = newModel();
    const org = newOrg();
    const start = M + 6 * 60;
    const backlog = CATCH_UP_HOURS + 2;
    await modelMetricsJob(at(start - 30));
    for (let hour = 0; hour < backlog; hour++)
      await recordCalls(modelId, [{ orgId: org, recordedAt: iso(start + hour * 60 + 30) }]);
    const after = start + (backlog + 1) * 60 + 30;
    const hourly = async () =>
      (await modelMetrics(modelId, ALL, at(start), at(start + backlog * 60), { now: at(after + 600) })).hourly.map((h) => h.hour);
    await modelMetricsJob(at(after));
    // The oldest hours first: the last two wait for the next run.
    expect(await hourly()).toEqual(Array.from({ length: CATCH_UP_HOURS }, (_, hour) => hourAt(start + hour * 60)));
    await modelMetricsJob(at(after + 1));
    expect(await hourly()).toEqual(Array.from({ length: backlog }, (_, hour) => hourAt(start + hour * 60)));
    expect((await modelMetrics(modelId, ALL, at(start), at(start + backlog * 60), { now: at(after + 600) })).calls).toBe(backlog);
  }, 60_000);
});
