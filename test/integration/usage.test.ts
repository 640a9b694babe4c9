import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DAILY_JOB_MAX_DAYS, aggregateDay, dailyUsageJob, dimensionsOf, getDailyUsage } from '@platform/domain/usage/daily';
import { usageDb, type UsageLog } from '@platform/domain/usage/entities';
import { exportUsage, listUsage, recordUsage } from '@platform/domain/usage/logs';
import type { RecordUsageInput } from '@platform/domain/usage/schemas';

const newOrg = () => `org_${randomUUID().replace(/-/g, '').slice(0, 26)}`;
const newClient = () => `ak_${randomUUID().replace(/-/g, '').slice(0, 26)}`;
/** A day no other test file uses, so "every organization active that day" is only ours. */
const uniqueDay = () => {
  const start = Date.UTC(2040, 0, 1);
  return new Date(start + Math.floor(Math.random() * 900 * 365) * 86_400_000).toISOString().slice(0, 10);
};
const at = (day: string, time: string) => `${day}T${time}Z`;

function call(orgId: string, overrides: Partial<RecordUsageInput> = {}): RecordUsageInput {
  return {
    orgId,
    agentType: 'chat',
    provider: 'bedrock',
    model: 'anthropic.claude-3-haiku',
    inputTokens: 100,
    outputTokens: 50,
    inputCostMicros: 250,
    outputCostMicros: 625,
    credits: 2,
    requestAt: '2031-03-04T10:00:00.000Z',
    responseAt: '2031-03-04T10:00:01.500Z',
    status: 'success',
    ...overrides,
  };
}

/** Everything of an organization's logs, through the list, following cursors. */
async function allLogs(orgId: string, filters: Parameters<typeof listUsage>[1] = {}, limit = 100) {
  const items: UsageLog[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const result = await listUsage(orgId, { ...filters, limit, cursor });
    items.push(...result.items);
    if (!result.nextCursor) return items;
    cursor = result.nextCursor;
  }
  throw new Error('Too many pages');
}

describe('recording usage', () => {
  it('writes one log per idempotency key, however many times the gateway retries in parallel', async () => {
    const orgId = newOrg();
    const input = call(orgId, { userId: randomUUID() });
    const results = await Promise.all(Array.from({ length: 12 }, () => recordUsage(input, 'completion-1')));
    expect(new Set(results.map((r) => r.usageId)).size).toBe(1);
    // A later retry with a changed payload still answers the first log, unchanged.
    const replay = await recordUsage({ ...input, credits: 99 }, 'completion-1');
    expect(replay).toMatchObject({ usageId: results[0]!.usageId, credits: 2 });
    const { data } = await usageDb.log.query.byKey({ orgId }).go({ pages: 'all' });
    expect(data).toHaveLength(1);
    expect(await allLogs(orgId)).toHaveLength(1);

    await recordUsage(input, 'completion-2');
    expect(await allLogs(orgId)).toHaveLength(2);
  });

  it('keeps idempotency keys case-sensitive: two keys that differ only in case are two calls', async () => {
    const orgId = newOrg();
    const [a, b] = await Promise.all([recordUsage(call(orgId), 'Call-A'), recordUsage(call(orgId), 'call-a')]);
    expect(a.usageId).not.toBe(b.usageId);
    expect(await allLogs(orgId)).toHaveLength(2);
  });

  it('completes totals and duration, stores money as integer micro-USD, and normalizes times to UTC', async () => {
    const orgId = newOrg();
    const log = await recordUsage(
      call(orgId, { requestAt: '2031-03-04T12:00:00+02:00', responseAt: '2031-03-04T12:00:02.250+02:00' }),
      'k',
    );
    expect(log).toMatchObject({
      totalTokens: 150,
      totalCostMicros: 875,
      durationMs: 2250,
      requestAt: '2031-03-04T10:00:00.000Z',
      responseAt: '2031-03-04T10:00:02.250Z',
    });
    expect(log.usageId).toMatch(/^use_[0-9a-z]{26}$/);
  });

  it('refuses what is not a billable call: 400 with the field', async () => {
    const orgId = newOrg();
    const refusals = [
      call(orgId, { model: 'bad#model' }),
      call(orgId, { inputCostMicros: 0.5 }),
      call(orgId, { responseAt: '2031-03-04T09:00:00Z' }),
      call(orgId, { agentType: 'poetry' as never }),
      { ...call(orgId), surprise: true },
    ];
    for (const input of refusals) await expect(recordUsage(input, 'k')).rejects.toMatchObject({ status: 400 });
    await expect(recordUsage(call(orgId), '')).rejects.toMatchObject({ status: 400 });
    expect(await allLogs(orgId)).toHaveLength(0);
  });
});

describe('listing usage', () => {
  const orgId = newOrg();
  const alice = randomUUID();
  const bob = randomUUID();
  const client = newClient();
  const day = '2031-05-10';
  const seed: Array<[string, RecordUsageInput]> = [
    ['a1', call(orgId, { userId: alice, requestAt: at(day, '01:00:00'), responseAt: at(day, '01:00:01') })],
    [
      'a2',
      call(orgId, { userId: alice, agentType: 'artifact', requestAt: at(day, '02:00:00'), responseAt: at(day, '02:00:01') }),
    ],
    ['b1', call(orgId, { userId: bob, model: 'gpt-4o', requestAt: at(day, '03:00:00'), responseAt: at(day, '03:00:01') })],
    ['k1', call(orgId, { apiClientId: client, requestAt: at(day, '04:00:00'), responseAt: at(day, '04:00:01') })],
    [
      'k2',
      call(orgId, {
        apiClientId: client,
        model: 'gpt-4o',
        requestAt: at('2031-05-11', '00:00:00'),
        responseAt: at('2031-05-11', '00:00:01'),
      }),
    ],
    ['b2', call(orgId, { userId: bob, status: 'error', requestAt: at(day, '05:00:00'), responseAt: at(day, '05:00:01') })],
  ];
  beforeAll(async () => {
    await Promise.all(seed.map(([key, input]) => recordUsage(input, key)));
  });
  const keysOf = (items: UsageLog[]) => items.map((i) => i.key);

  it('lists an organization’s logs newest first', async () => {
    expect(keysOf(await allLogs(orgId))).toEqual(['k2', 'b2', 'k1', 'b1', 'a2', 'a1']);
    expect(await allLogs(newOrg())).toEqual([]);
  });

  it('filters by user, API client, agent type and model, alone or together', async () => {
    expect(keysOf(await allLogs(orgId, { userId: alice }))).toEqual(['a2', 'a1']);
    expect(keysOf(await allLogs(orgId, { userId: bob, model: 'gpt-4o' }))).toEqual(['b1']);
    expect(keysOf(await allLogs(orgId, { apiClientId: client }))).toEqual(['k2', 'k1']);
    expect(keysOf(await allLogs(orgId, { agentType: 'artifact' }))).toEqual(['a2']);
    expect(keysOf(await allLogs(orgId, { model: 'gpt-4o' }))).toEqual(['k2', 'b1']);
    expect(keysOf(await allLogs(orgId, { userId: alice, agentType: 'training' }))).toEqual([]);
  });

  it('reads a user’s logs through an index: the first page of one holds that user’s newest log', async () => {
    // The organization's newest logs are not Alice's: a filter would answer an empty first page.
    const page = await listUsage(orgId, { userId: alice, limit: 1 });
    expect(keysOf(page.items)).toEqual(['a2']);
    const filtered = await listUsage(orgId, { agentType: 'artifact', limit: 1 });
    expect(filtered.items).toEqual([]); // not index-backed: the newest log (k2) was read and filtered out
    expect(filtered.nextCursor).not.toBeNull();
  });

  it('takes `from` inclusive and `to` exclusive', async () => {
    const range = { from: at(day, '02:00:00.000'), to: at(day, '04:00:00.000') };
    expect(keysOf(await allLogs(orgId, range))).toEqual(['b1', 'a2']);
    expect(keysOf(await allLogs(orgId, { ...range, userId: alice }))).toEqual(['a2']);
    expect(keysOf(await allLogs(orgId, { from: at('2031-05-11', '00:00:00.000') }))).toEqual(['k2']);
    expect(keysOf(await allLogs(orgId, { to: at(day, '01:00:00.001') }))).toEqual(['a1']);
  });

  it('pages with cursors: every log once, in order', async () => {
    const all = keysOf(await allLogs(orgId));
    expect(keysOf(await allLogs(orgId, {}, 1))).toEqual(all);
    expect(keysOf(await allLogs(orgId, { model: 'anthropic.claude-3-haiku' }, 2))).toEqual(
      all.filter((k) => !['k2', 'b1'].includes(k)),
    );
  });

  it('refuses a cursor of another organization or another list', async () => {
    const other = newOrg();
    await Promise.all([recordUsage(call(other), 'x1'), recordUsage(call(other), 'x2')]);
    const foreign = (await listUsage(other, { limit: 1 })).nextCursor!;
    expect(foreign).toBeTruthy();
    await expect(listUsage(orgId, { cursor: foreign })).rejects.toMatchObject({ status: 400 });
    const ofAlice = (await listUsage(orgId, { userId: alice, limit: 1 })).nextCursor!;
    await expect(listUsage(orgId, { cursor: ofAlice })).rejects.toMatchObject({ status: 400 });
    await expect(listUsage(orgId, { cursor: 'not-a-cursor' })).rejects.toMatchObject({ status: 400 });
  });

  it('exports the same logs as CSV, a bounded number of rows per file', async () => {
    const first = await exportUsage(orgId, { limit: 4 });
    expect(first.rows).toBe(4);
    expect(first.csv.trimEnd().split('\r\n')).toHaveLength(5);
    const rest = await exportUsage(orgId, { limit: 4, cursor: first.nextCursor! });
    expect(rest.rows).toBe(2);
    expect(rest.nextCursor).toBeNull();
    const ids = [...first.csv.split('\r\n').slice(1), ...rest.csv.split('\r\n').slice(1)]
      .filter(Boolean)
      .map((l) => l.split(',')[0]);
    expect(ids).toEqual((await allLogs(orgId)).map((l) => l.usageId));
  });
});

describe('daily aggregates', () => {
  async function seedDay(orgId: string, day: string, users: string[]) {
    const models = ['m-small', 'm-large'];
    const inputs = Array.from({ length: 24 }, (_, i) =>
      call(orgId, {
        userId: i % 5 === 4 ? undefined : users[i % users.length],
        apiClientId: i % 5 === 4 ? newClient() : undefined,
        model: models[i % 2]!,
        inputTokens: 10 * i,
        outputTokens: i,
        inputCostMicros: 1000 + i,
        outputCostMicros: 7 * i,
        credits: i % 3,
        status: i % 7 === 0 ? 'timeout' : i % 4 === 0 ? 'error' : 'success',
        requestAt: at(day, `${String(i).padStart(2, '0')}:00:00`),
        responseAt: at(day, `${String(i).padStart(2, '0')}:00:01`),
      }),
    );
    // Neighbours just outside the day do not count.
    const before = new Date(Date.parse(`${day}T00:00:00Z`) - 1).toISOString();
    const after = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString();
    inputs.push(call(orgId, { userId: users[0], requestAt: before, responseAt: before }));
    inputs.push(call(orgId, { userId: users[0], requestAt: after, responseAt: after }));
    const logs = await Promise.all(inputs.map((input, i) => recordUsage(input, `${day}-${i}`)));
    return logs.filter((l) => l.requestAt.startsWith(day));
  }

  /** The expected aggregates, summed here from the logs themselves. */
  function sums(logs: UsageLog[]) {
    const out = new Map<string, Record<string, number>>();
    for (const log of logs)
      for (const dimension of dimensionsOf(log)) {
        const s = out.get(dimension) ?? { totalTokens: 0, inputTokens: 0, totalCostMicros: 0, credits: 0, calls: 0, errors: 0 };
        s.totalTokens! += log.totalTokens;
        s.inputTokens! += log.inputTokens;
        s.totalCostMicros! += log.totalCostMicros;
        s.credits! += log.credits;
        s.calls! += 1;
        s.errors! += log.status === 'success' ? 0 : 1;
        out.set(dimension, s);
      }
    return out;
  }

  async function storedAggregates(orgId: string, day: string) {
    const { data } = await usageDb.daily.query.byDimension({ orgId }).go({ pages: 'all' });
    return new Map(
      data
        .filter((a) => a.day === day)
        .map((a) => [
          a.dimension,
          {
            totalTokens: a.totalTokens,
            inputTokens: a.inputTokens,
            totalCostMicros: a.totalCostMicros,
            credits: a.credits,
            calls: a.calls,
            errors: a.errors,
          },
        ]),
    );
  }

  it('equal the sum of the logs per dimension, and the same again when the job runs twice', async () => {
    const orgId = newOrg();
    const day = uniqueDay();
    const users = [randomUUID(), randomUUID(), randomUUID()];
    const logs = await seedDay(orgId, day, users);
    const expected = sums(logs);
    expect(expected.size).toBe(1 + 3 + 2);

    const first = await aggregateDay(orgId, day);
    expect(first).toMatchObject({ day, orgs: 1, logs: logs.length, aggregates: 6 });
    expect(await storedAggregates(orgId, day)).toEqual(expected);

    await aggregateDay(orgId, day);
    await Promise.all([aggregateDay(orgId, day), aggregateDay(orgId, day)]);
    expect(await storedAggregates(orgId, day)).toEqual(expected);
  });

  it('take in late logs when the day is aggregated again, without counting a call twice', async () => {
    const orgId = newOrg();
    const day = uniqueDay();
    const user = randomUUID();
    const early = await recordUsage(
      call(orgId, { userId: user, requestAt: at(day, '10:00:00'), responseAt: at(day, '10:00:01') }),
      'early',
    );
    await aggregateDay(orgId, day);
    const late = await recordUsage(
      call(orgId, { userId: user, requestAt: at(day, '23:59:59'), responseAt: at(day, '23:59:59') }),
      'late',
    );
    await recordUsage(call(orgId, { userId: user, requestAt: at(day, '23:59:59'), responseAt: at(day, '23:59:59') }), 'late');
    await aggregateDay(orgId, day);
    expect(await storedAggregates(orgId, day)).toEqual(sums([early, late]));
    expect((await storedAggregates(orgId, day)).get('org')?.calls).toBe(2);
  });

  it('cover every organization that had usage that day when no organization is named', async () => {
    const day = uniqueDay();
    const [orgA, orgB, idle] = [newOrg(), newOrg(), newOrg()];
    const [logsA, logsB] = await Promise.all([
      seedDay(orgA, day, [randomUUID()]),
      seedDay(orgB, day, [randomUUID(), randomUUID()]),
    ]);
    const outcome = await aggregateDay(undefined, day);
    expect(outcome).toMatchObject({ day, orgs: 2, logs: logsA.length + logsB.length });
    expect(await storedAggregates(orgA, day)).toEqual(sums(logsA));
    expect(await storedAggregates(orgB, day)).toEqual(sums(logsB));
    expect((await storedAggregates(idle, day)).size).toBe(0);
  });

  it('are rebuilt by the daily job for yesterday, and for the day before to take in late logs', async () => {
    await usageDb.job.delete({ job: 'daily-usage' }).go(); // no earlier run
    const orgId = newOrg();
    const now = new Date(`${uniqueDay()}T00:30:00Z`);
    const yesterday = new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
    const dayBefore = new Date(now.getTime() - 2 * 86_400_000).toISOString().slice(0, 10);
    const late = await recordUsage(
      call(orgId, { requestAt: at(dayBefore, '23:59:59'), responseAt: at(yesterday, '00:00:01') }),
      'late',
    );
    const onTime = await recordUsage(
      call(orgId, { requestAt: at(yesterday, '08:00:00'), responseAt: at(yesterday, '08:00:01') }),
      'on-time',
    );
    const outcomes = (await dailyUsageJob(now)).days;
    expect(outcomes.map((o) => [o.day, o.orgs, o.logs])).toEqual([
      [dayBefore, 1, 1],
      [yesterday, 1, 1],
    ]);
    expect(await storedAggregates(orgId, dayBefore)).toEqual(sums([late]));
    expect(await storedAggregates(orgId, yesterday)).toEqual(sums([onTime]));
  });

  it('are caught up by the daily job from the last day it aggregated, when runs were missed', async () => {
    const orgId = newOrg();
    const today = uniqueDay();
    const daysAgo = (n: number) => new Date(Date.parse(today) - n * 86_400_000).toISOString().slice(0, 10);
    // The last run aggregated through 6 days ago: five runs were missed.
    await usageDb.job.put({ job: 'daily-usage', aggregatedThrough: daysAgo(6), updatedAt: new Date().toISOString() }).go();
    const missed = await recordUsage(
      call(orgId, { requestAt: at(daysAgo(4), '12:00:00'), responseAt: at(daysAgo(4), '12:00:01') }),
      'missed',
    );
    const outcomes = (await dailyUsageJob(new Date(`${today}T00:30:00Z`))).days;
    expect(outcomes.map((o) => o.day)).toEqual([6, 5, 4, 3, 2, 1].map(daysAgo));
    expect(await storedAggregates(orgId, daysAgo(4))).toEqual(sums([missed]));
    expect((await usageDb.job.get({ job: 'daily-usage' }).go()).data?.aggregatedThrough).toBe(daysAgo(1));
    // The next day's run is back to yesterday and the day before.
    const next = (await dailyUsageJob(new Date(`${daysAgo(-1)}T00:30:00Z`))).days;
    expect(next.map((o) => o.day)).toEqual([daysAgo(1), daysAgo(0)]);
    // Far behind: a run rebuilds at most a month, oldest first, and the next resumes after it.
    await usageDb.job.put({ job: 'daily-usage', aggregatedThrough: daysAgo(100), updatedAt: new Date().toISOString() }).go();
    const far = (await dailyUsageJob(new Date(`${today}T00:30:00Z`))).days;
    expect(far.map((o) => o.day)).toEqual(Array.from({ length: DAILY_JOB_MAX_DAYS }, (_, i) => daysAgo(100 - i)));
    const resumed = (await dailyUsageJob(new Date(`${today}T00:30:00Z`))).days;
    expect(resumed[0]!.day).toBe(daysAgo(100 - DAILY_JOB_MAX_DAYS + 1));
  });

  it('are read as a series or a breakdown over a range of days', async () => {
    const orgId = newOrg();
    const day1 = uniqueDay();
    const day2 = new Date(Date.parse(day1) + 86_400_000).toISOString().slice(0, 10);
    const day3 = new Date(Date.parse(day1) + 2 * 86_400_000).toISOString().slice(0, 10);
    const alice = randomUUID();
    const bob = randomUUID();
    const record = (key: string, day: string, userId: string, model: string, credits: number) =>
      recordUsage(call(orgId, { userId, model, credits, requestAt: at(day, '12:00:00'), responseAt: at(day, '12:00:01') }), key);
    await Promise.all([
      record('1', day1, alice, 'Model-X', 1),
      record('2', day2, alice, 'Model-X', 2),
      record('3', day2, bob, 'model-x', 4),
      record('4', day3, bob, 'Model-X', 8),
    ]);
    for (const day of [day1, day2, day3]) await aggregateDay(orgId, day);

    const credits = (items: Array<{ day: string; dimension: string; credits: number }>) =>
      items.map((i) => [i.day, i.dimension, i.credits]);
    expect(credits((await getDailyUsage(orgId, { from: day1, to: day3 })).items)).toEqual([
      [day1, 'org', 1],
      [day2, 'org', 6],
      [day3, 'org', 8],
    ]);
    expect(credits((await getDailyUsage(orgId, { from: day2, to: day3, dimension: `user#${alice}` })).items)).toEqual([
      [day2, `user#${alice}`, 2],
    ]);
    expect(credits((await getDailyUsage(orgId, { from: day1, to: day3, dimension: `user#${bob.toUpperCase()}` })).items)).toEqual(
      [
        [day2, `user#${bob}`, 4],
        [day3, `user#${bob}`, 8],
      ],
    );
    // Model names keep their case: Model-X and model-x are two models.
    expect(credits((await getDailyUsage(orgId, { from: day1, to: day3, dimension: 'model#Model-X' })).items)).toEqual([
      [day1, 'model#Model-X', 1],
      [day2, 'model#Model-X', 2],
      [day3, 'model#Model-X', 8],
    ]);
    const breakdown = (await getDailyUsage(orgId, { from: day2, to: day2, dimension: 'model' })).items;
    expect(credits(breakdown)).toEqual([
      [day2, 'model#Model-X', 2],
      [day2, 'model#model-x', 4],
    ]);
    const users = await getDailyUsage(orgId, { from: day1, to: day3, dimension: 'user', limit: 2 });
    expect(users.items).toHaveLength(2);
    const more = await getDailyUsage(orgId, { from: day1, to: day3, dimension: 'user', cursor: users.nextCursor! });
    expect([...users.items, ...more.items].map((i) => i.day)).toEqual([day1, day2, day2, day3]);
  });
});
