import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ledgerDb } from '@platform/domain/billing/entities';
import { credit, listTransactions } from '@platform/domain/billing/ledger';
import { pageOf } from '@platform/domain/shared/pages';
import { aggregateDay } from '@platform/domain/usage/daily';
import { usageDb } from '@platform/domain/usage/entities';
import { exportUsage, listUsage, recordUsage } from '@platform/domain/usage/logs';

/**
 * Cursors under a ranged key condition (BETWEEN, `>=`, `<`…), against DynamoDB Local: a cursor
 * must name a row of the entity the query reads, or it is a 400 before anything is read, also
 * when the other entity's rows sort inside the range (a `>=` on the ledger runs on into the
 * organization's usage logs, kept in the same partition of gsi1). Lists that read the same rows
 * (the usage list and its export) take each other's cursors.
 */
const newOrg = () => `org_${randomUUID().replace(/-/g, '').slice(0, 26)}`;
/** A day no other test file uses. */
const uniqueDay = () =>
  new Date(Date.UTC(2040, 0, 1) + Math.floor(Math.random() * 900 * 365) * 86_400_000).toISOString().slice(0, 10);

type Page<T> = { data: T[]; cursor: string | null };
type GoOptions = { cursor: string | null; limit: number; order: 'asc' | 'desc' };

/** The query as `pageOf` takes it, counting the reads it is asked for. */
function counted<T>(query: { params(): Record<string, unknown>; go(options: GoOptions): Promise<Page<T>> }) {
  const reads = { count: 0 };
  return {
    reads,
    query: {
      params: () => query.params(),
      go: (options: GoOptions) => {
        reads.count++;
        return query.go(options);
      },
    },
  };
}

let orgId: string;
let day: string;
const userId = randomUUID();

beforeAll(async () => {
  orgId = newOrg();
  day = uniqueDay();
  await credit(orgId, 'grant-1', 'grant', 100);
  await credit(orgId, 'grant-2', 'grant', 50);
  await credit(orgId, 'grant-3', 'grant', 25);
  for (let i = 0; i < 4; i++)
    await recordUsage(
      {
        orgId,
        userId,
        agentType: 'chat',
        provider: 'bedrock',
        model: 'anthropic.claude-3-haiku',
        inputTokens: 1,
        outputTokens: 1,
        inputCostMicros: 1,
        outputCostMicros: 1,
        credits: 1,
        requestAt: `${day}T10:00:0${i}.000Z`,
        responseAt: `${day}T10:00:0${i}.500Z`,
        status: 'success',
      },
      `pages-${i}`,
    );
  await aggregateDay(orgId, day);
}, 60_000);

describe('a cursor under a ranged key condition (DynamoDB Local)', () => {
  it('is refused (400) before reading when it names a usage log, sent to a ledger range open at either end or closed', async () => {
    const usageCursor = (await listUsage(orgId, { limit: 1 })).nextCursor!;
    expect(usageCursor).toEqual(expect.any(String));
    const byTime = () => ledgerDb.transaction.query.byTime({ orgId });
    const ranges = {
      '>=': byTime().gte({ createdAt: '2000-01-01T00:00:00.000Z' }),
      '>': byTime().gt({ createdAt: '2000-01-01T00:00:00.000Z' }),
      '<': byTime().lt({ createdAt: '2099-01-01T00:00:00.000Z' }),
      '<=': byTime().lte({ createdAt: '2099-01-01T00:00:00.000Z' }),
      BETWEEN: byTime().between({ createdAt: '0' }, { createdAt: '~' }),
    };
    for (const [name, range] of Object.entries(ranges)) {
      const { reads, query } = counted(range);
      await expect(pageOf(query, { cursor: usageCursor, limit: 5, order: 'desc' }), name).rejects.toMatchObject({ status: 400 });
      expect(reads.count, name).toBe(0);
    }
  });

  it('is refused (400) before reading when it is of another daily series of the same organization', async () => {
    const series = (dimension: string) =>
      usageDb.daily.query.byDimension({ orgId, dimension }).between({ day: '0001-01-01' }, { day: '9999-12-31' });
    const ofUser = await pageOf(series(`user#${userId}`), { limit: 1, order: 'asc' });
    expect(ofUser.data).toHaveLength(1);
    expect(ofUser.cursor).toEqual(expect.any(String));
    const { reads, query } = counted(series('org'));
    await expect(pageOf(query, { cursor: ofUser.cursor, limit: 5, order: 'asc' })).rejects.toMatchObject({ status: 400 });
    expect(reads.count).toBe(0);
  });

  it('is followed when it is the list’s own, through a range of a few milliseconds or open at one end', async () => {
    const { items } = await listTransactions(orgId, {});
    const whole = items.map((t) => t.key);
    expect([...whole].sort()).toEqual(['grant-1', 'grant-2', 'grant-3']);
    // From the first grant to the last: the bounds share the key far into the time.
    for (const range of [
      { from: items.at(-1)!.createdAt, to: items[0]!.createdAt },
      { from: '2000-01-01T00:00:00.000Z' },
      { to: '2099-01-01T00:00:00.000Z' },
    ]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const result = await listTransactions(orgId, { ...range, limit: 1, cursor });
        seen.push(...result.items.map((t) => t.key));
        if (!result.nextCursor) break;
        cursor = result.nextCursor;
      }
      expect(seen, JSON.stringify(range)).toEqual(whole);
    }
  });

  it('is taken by the usage export from the usage list, which reads the same rows', async () => {
    const first = await listUsage(orgId, { limit: 1 });
    const rest = await exportUsage(orgId, { cursor: first.nextCursor! });
    expect(rest.rows).toBe(3);
  });
});
