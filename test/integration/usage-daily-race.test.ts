import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { aggregateDay, getDailyUsage } from '@platform/domain/usage/daily';
import { recordUsage } from '@platform/domain/usage/logs';
import type { RecordUsageInput } from '@platform/domain/usage/schemas';
import { clock } from '@platform/domain/shared/clock';
import { dynamo } from '@platform/domain/shared/dynamo';
import { beforeRequest } from '../helpers/billing.ts';

/**
 * Two rebuilds of one organization's day at once (the schedule delivered twice, a manual run),
 * a late log landing between their reads: the day's aggregates end as the logs add up, not as
 * the rebuild that read fewer logs left them by writing last.
 */
const newOrg = () => `org_${randomUUID().replace(/-/g, '').slice(0, 26)}`;
/** A day no other test file uses. */
const uniqueDay = () =>
  new Date(Date.UTC(2040, 0, 1) + Math.floor(Math.random() * 900 * 365) * 86_400_000).toISOString().slice(0, 10);

const call = (orgId: string, userId: string, day: string, time: string): RecordUsageInput => ({
  orgId,
  userId,
  agentType: 'chat',
  provider: 'bedrock',
  model: 'm1',
  inputTokens: 10,
  outputTokens: 5,
  inputCostMicros: 100,
  outputCostMicros: 50,
  credits: 1,
  requestAt: `${day}T${time}Z`,
  responseAt: `${day}T${time}Z`,
  status: 'success',
});

const client = dynamo();
const send = client.send;
afterEach(() => {
  client.send = send;
  vi.restoreAllMocks();
});

/** The first write of a daily aggregate, whichever request carries it. */
const aggregateWrite = (name: string, input: string) =>
  ['BatchWriteCommand', 'PutCommand', 'TransactWriteCommand'].includes(name) && input.includes('usagedaily');

/** Every dimension's calls on the day: `org`, the user's and the model's. */
async function callsOf(orgId: string, userId: string, day: string) {
  const series = await Promise.all(
    ['org', `user#${userId}`, 'model#m1'].map((dimension) => getDailyUsage(orgId, { from: day, to: day, dimension })),
  );
  return series.map(({ items }) => items.map((item) => item.calls));
}

describe('daily usage rebuilds racing each other', () => {
  it('a rebuild that read the day before a late log writes after a later rebuild that read it: the aggregates keep the later totals', async () => {
    const orgId = newOrg();
    const userId = randomUUID();
    const day = uniqueDay();
    await recordUsage(call(orgId, userId, day, '10:00:00'), 'a');
    await recordUsage(call(orgId, userId, day, '11:00:00'), 'b');

    // Rebuild A has read the day's 2 logs and is about to write; a late log lands and rebuild B
    // reads the 3 and writes them; then A's writes go on.
    const hook = beforeRequest(aggregateWrite, async () => {
      await recordUsage(call(orgId, userId, day, '23:59:59'), 'late');
      await aggregateDay(orgId, day);
    });
    const outcome = await aggregateDay(orgId, day);
    expect(hook.fired).toBe(true);
    expect(hook.error).toBeUndefined();
    expect(outcome).toMatchObject({ orgs: 1, logs: 2 });

    expect(await callsOf(orgId, userId, day)).toEqual([[3], [3], [3]]);
    // A rebuild after both still writes what the logs add up to.
    await recordUsage(call(orgId, userId, day, '23:59:59.500'), 'later');
    await aggregateDay(orgId, day);
    expect(await callsOf(orgId, userId, day)).toEqual([[4], [4], [4]]);
  });

  it('two rebuilds stamped in the same millisecond: the totals of more logs stay, whichever writes last', async () => {
    const orgId = newOrg();
    const userId = randomUUID();
    const day = uniqueDay();
    await recordUsage(call(orgId, userId, day, '10:00:00'), 'a');
    // Both rebuilds start at the same instant (the clock stands still for them).
    const now = clock.nowIso();
    vi.spyOn(clock, 'nowIso').mockReturnValue(now);

    const hook = beforeRequest(aggregateWrite, async () => {
      await recordUsage(call(orgId, userId, day, '23:59:59'), 'late');
      await aggregateDay(orgId, day);
    });
    await aggregateDay(orgId, day);
    expect(hook.fired).toBe(true);
    expect(hook.error).toBeUndefined();

    expect(await callsOf(orgId, userId, day)).toEqual([[2], [2], [2]]);
  });

  it('a rebuild that started first but read last (after a late log) keeps its fuller totals over the other’s', async () => {
    const orgId = newOrg();
    const userId = randomUUID();
    const day = uniqueDay();
    await recordUsage(call(orgId, userId, day, '10:00:00'), 'a');
    await recordUsage(call(orgId, userId, day, '11:00:00'), 'b');
    // Rebuild A is stamped, then (before its log query is served) rebuild B runs whole, reading
    // 2 logs; a late log lands; A's query then reads 3.
    const hook = beforeRequest(
      (name, input) => name === 'QueryCommand' && input.includes(orgId) && input.includes('usagelog'),
      async () => {
        await new Promise((r) => setTimeout(r, 5));
        await aggregateDay(orgId, day);
        await recordUsage(call(orgId, userId, day, '23:59:59'), 'late');
      },
    );
    const outcome = await aggregateDay(orgId, day);
    expect(hook.fired).toBe(true);
    expect(hook.error).toBeUndefined();
    expect(outcome).toMatchObject({ logs: 3 });
    const { items } = await getDailyUsage(orgId, { from: day, to: day });
    // Both rebuilds are over, the logs add up to 3.
    expect(items.map((i) => i.calls)).toEqual([3]);
  });
});
