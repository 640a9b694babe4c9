import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { clock } from '../shared/clock.ts';
import { conditionFailed, dynamo } from '../shared/dynamo.ts';
import { NotFoundError } from '../shared/errors.ts';
import { pageOf } from '../shared/pages.ts';
import { transactWrite, update } from '../shared/transactions.ts';
import { accountGone, accountNotDeletedCheck, requireLiveAccount } from '../identity/access.ts';
import { notificationDb, type Notification } from './entities.ts';

/**
 * A user's notifications: list (unread first), count unread, mark read. Every function is
 * keyed by the caller's own user id, so another user's notification is never found.
 *
 * A notification past its retention is gone, though DynamoDB's TTL deletes it only some time
 * (up to days) later: every read and write here leaves out an item whose `ttl` has passed
 * (a filter on the queries, a condition on the updates).
 *
 * DynamoDB requests, per call:
 * - listNotifications: 2, in parallel (the page from gsi1, a COUNT of the unread prefix).
 * - markRead: 1 (a conditional update); 2 when it was already read or does not exist (a
 *   consistent read tells which).
 * - markAllRead: 1 query of up to `MARK_ALL_BATCH` unread + 1 transaction marking them (on the
 *   condition that the account is not deleted: its token outlives it), and a COUNT of what is
 *   left only when the query page was full: at most 3; with nothing to mark, a read of the
 *   profile instead of the transaction. More than a batch of unread notifications takes several
 *   calls: the answer says how many `remaining`.
 * The other calls leave refusing a deleted account to the HTTP kit (one read of the profile).
 */
export const UNREAD_COUNT_CAP = 1000;
/** DynamoDB's limit of items in one transaction, less the check of the account. */
export const MARK_ALL_BATCH = 99;

export const notificationView = (n: Notification) => ({
  notificationId: n.notificationId,
  orgId: n.orgId,
  type: n.type,
  title: n.title,
  message: n.message,
  metadata: n.metadata,
  isRead: n.isRead,
  readAt: n.readAt,
  createdAt: n.createdAt,
  expiresAt: new Date(n.ttl * 1000).toISOString(),
});

/**
 * The user's live notifications, all or in one read state: one whose `ttl` (epoch seconds) is
 * now or before has expired (its `expiresAt` is past) and is filtered out.
 */
const byState = (userId: string, readState?: 'unread' | 'read') => {
  const now = clock.epochSeconds();
  return notificationDb.notification.query
    .byReadState(readState ? { userId, readState } : { userId })
    .where(({ ttl }, { gt }) => gt(ttl, now));
};

/**
 * How many notifications a query would return, counted by DynamoDB (Select COUNT: no item
 * leaves the table), in one request: past `cap` it stops and says `capped`. A COUNT also
 * stops at 1 MB read, which is far past the cap for notification-sized items.
 */
async function countOf(params: object, cap: number, exclusiveStartKey?: Record<string, unknown>) {
  const input = {
    ...(params as QueryCommandInput),
    Select: 'COUNT' as const,
    Limit: cap + 1,
    ExclusiveStartKey: exclusiveStartKey,
  };
  const out = await dynamo().send(new QueryCommand(input));
  const count = out.Count ?? 0;
  return { count: Math.min(count, cap), capped: count > cap || !!out.LastEvaluatedKey };
}

export const countUnread = (userId: string) => countOf(byState(userId, 'unread').params(), UNREAD_COUNT_CAP);

/**
 * The user's notifications, unread first (newest first), then read (newest first), as one
 * paginated query of gsi1; `unread: true` lists only unread ones, `false` only read ones.
 * A notification marked read between two pages moves behind the cursor and may be missed
 * or seen twice; a fresh first page is always right.
 */
export async function listNotifications(userId: string, options: { cursor?: string; limit?: number; unread?: boolean } = {}) {
  const state = options.unread === undefined ? undefined : options.unread ? 'unread' : 'read';
  const [page, unread] = await Promise.all([
    // A cursor of another user, or one this list never handed out, is a 400 (pageOf).
    pageOf(byState(userId, state), { cursor: options.cursor, limit: options.limit ?? 20, order: 'desc' }),
    countUnread(userId),
  ]);
  return {
    items: page.data.map(notificationView),
    nextCursor: page.cursor,
    unreadCount: unread.count,
    unreadCountCapped: unread.capped,
  };
}

const markReadOf = (n: Pick<Notification, 'userId' | 'notificationId'>, at: string) => {
  const now = clock.epochSeconds();
  return notificationDb.notification
    .patch({ userId: n.userId, notificationId: n.notificationId })
    .set({ isRead: true, readState: 'read', readAt: at })
    .where(({ readState, ttl }, { eq, gt }) => `${eq(readState, 'unread')} AND ${gt(ttl, now)}`);
};

/**
 * Marks one of the user's notifications read; marking a read one again changes nothing. One
 * that does not exist, or has expired, is not found.
 */
export async function markRead(userId: string, notificationId: string): Promise<void> {
  try {
    await markReadOf({ userId, notificationId }, clock.nowIso()).go({ response: 'none' });
  } catch (error) {
    if (!conditionFailed(error)) throw error;
    const { data } = await notificationDb.notification.get({ userId, notificationId }).go({ consistent: true });
    if (!data || data.ttl <= clock.epochSeconds()) throw new NotFoundError('Notification not found');
  }
}

/**
 * Marks the user's unread notifications read, newest first, up to `MARK_ALL_BATCH` per call
 * in one transaction (each item on the condition that it is still unread). When an item
 * changed in between (marked read by another request, or expired), the transaction is
 * canceled and re-sent once without it. `remaining` counts the unread left for another call.
 */
export async function markAllRead(userId: string): Promise<{ marked: number; remaining: number }> {
  const page = await byState(userId, 'unread').go({ limit: MARK_ALL_BATCH, order: 'desc' });
  let pending = page.data;
  if (!pending.length) await requireLiveAccount(userId);
  const at = clock.nowIso();
  for (let attempt = 0; pending.length && attempt < 2; attempt++) {
    const outcome = await transactWrite([...pending.map((n) => update(markReadOf(n, at))), accountNotDeletedCheck(userId)]);
    if (!outcome.canceled) break;
    if (outcome.reasons[pending.length] === 'ConditionalCheckFailed') throw accountGone();
    pending = pending.filter((_, i) => outcome.reasons[i] === 'None');
    if (attempt === 1) pending = [];
  }
  // The page's cursor is ElectroDB's LastEvaluatedKey (base64url JSON): count what lies past it.
  const after = page.cursor ? JSON.parse(Buffer.from(page.cursor, 'base64url').toString('utf8')) : undefined;
  const remaining = after
    ? (await countOf(byState(userId, 'unread').params({ order: 'desc' }), UNREAD_COUNT_CAP, after)).count
    : 0;
  return { marked: pending.length, remaining };
}
