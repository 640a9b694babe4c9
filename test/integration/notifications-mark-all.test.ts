import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

/**
 * Read-all against DynamoDB Local while another device marks notifications read one by one
 * between its query and its transactions: those single marks run right before each of its
 * transactions is sent, so the race is the same every run.
 */
const race: { beforeTransaction?: () => Promise<void> } = {};
vi.mock('../../packages/domain/src/shared/transactions.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../packages/domain/src/shared/transactions.ts')>();
  return {
    ...original,
    transactWrite: async (...args: Parameters<typeof original.transactWrite>) => {
      await race.beforeTransaction?.();
      return original.transactWrite(...args);
    },
  };
});

const { notify } = await import('@platform/domain/notifications/notify');
const { MARK_ALL_BATCH, countUnread, markAllRead, markRead } = await import('@platform/domain/notifications/inbox');
const { notificationDb } = await import('@platform/domain/notifications/entities');

/** `count` unread notifications of a new user, oldest first (ids sort by time). */
async function unreadOf(count: number) {
  const userId = randomUUID();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push((await notify({ userId, type: 'system', title: `n${i}`, message: 'Unread' })).notificationId);
    await new Promise((r) => setTimeout(r, 2));
  }
  return { userId, ids };
}

/** Runs read-all while another device marks `others` read, one right before each of read-all's transactions. */
async function markAllRacing(userId: string, others: string[]) {
  const left = [...others];
  race.beforeTransaction = async () => {
    const id = left.shift();
    if (id) await markRead(userId, id);
  };
  try {
    return await markAllRead(userId);
  } finally {
    race.beforeTransaction = undefined;
  }
}

describe('read-all racing another device that marks single notifications read', () => {
  it('still marks all the others when two of its batch were marked read before its first two transactions', async () => {
    const { userId, ids } = await unreadOf(10);
    expect(await markAllRacing(userId, [ids[9]!, ids[0]!])).toEqual({ marked: 8, remaining: 0 });
    expect((await countUnread(userId)).count).toBe(0);
  });

  it('says how many are left, its own batch among them, when it loses the race every time', async () => {
    const { userId, ids } = await unreadOf(10);
    const answer = await markAllRacing(userId, ids.slice(0, 5));
    const left = (await countUnread(userId)).count;
    expect(left).toBeGreaterThan(0);
    expect(answer).toEqual({ marked: 0, remaining: left });
    // Another call marks the rest.
    expect(await markAllRead(userId)).toEqual({ marked: left, remaining: 0 });
  });

  it('counts, after a full batch it could not mark, every unread one: not only those past the batch', async () => {
    const userId = randomUUID();
    await Promise.all(
      Array.from({ length: MARK_ALL_BATCH + 1 }, (_, i) => notify({ userId, type: 'system', title: `b${i}`, message: 'Unread' })),
    );
    const { data } = await notificationDb.notification.query.byId({ userId }).go({ pages: 'all' });
    const newest = data
      .map((n) => n.notificationId)
      .sort()
      .reverse();
    const answer = await markAllRacing(userId, newest.slice(0, 5));
    const left = (await countUnread(userId)).count;
    expect(answer).toEqual({ marked: 0, remaining: left });
    expect(left).toBe(MARK_ALL_BATCH + 1 - 3); // one marked by the other device before each of its 3 transactions
  });
});
