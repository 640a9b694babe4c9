import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { createConversions } from 'electrodb';
import { clock } from '../shared/clock.ts';
import { conditionFailed, dynamo, lazy } from '../shared/dynamo.ts';
import { NotFoundError } from '../shared/errors.ts';
import { badCursor, decodeCursor, encodeCursor, pageOf } from '../shared/pages.ts';
import { isUtcInstant } from '../shared/schemas.ts';
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
 * - listNotifications: 2, in parallel (one read of the page, a COUNT of the unread prefix).
 * - markRead: 1 (a conditional update); 2 when it was already read or does not exist (a
 *   consistent read tells which).
 * - markAllRead: 1 query of up to `MARK_ALL_BATCH` unread + 1 transaction marking them (on the
 *   condition that the account is not deleted: its token outlives it), and a COUNT of what is
 *   left only when the query page was full: at most 3; with nothing to mark, a read of the
 *   profile instead of the transaction. Another request marking one of the batch read meanwhile
 *   costs a transaction more (at most `MARK_ALL_ATTEMPTS` in all), and, when the last one fails
 *   too, the COUNT. More than a batch of unread notifications takes several calls: the answer
 *   says how many `remaining`.
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

/** Items one read of a walk looks at past its first page: as many as the largest page, so that a read usually fills one. */
const WALK_READ = 100;

/**
 * Where a walk of the whole list stands: the time of its first page (`since`), its phase, and
 * the DynamoDB key its next read starts after. As a cursor, all three in one base64url JSON
 * object (the key's attributes beside `phase` and `since`).
 */
interface WalkPosition {
  phase: 'unread' | 'read';
  since: string;
  key: Record<string, unknown>;
}

/** The keys of a notification in each index, built as ElectroDB builds them. */
const keysOf = lazy(() => createConversions(notificationDb.notification).byAccessPattern);

/** The top of the user's `read` prefix of gsi1, where no item is: the cursor of phase 2 before its first read. */
const readStart = (userId: string) => keysOf().byReadState.fromComposite.toKeys({ userId, readState: 'read' });

/** The key a read of `phase` goes on after, to go on after `item`. */
const keyAfter = (userId: string, phase: WalkPosition['phase'], { notificationId }: Pick<Notification, 'notificationId'>) =>
  phase === 'unread'
    ? keysOf().byId.fromComposite.toKeys({ userId, notificationId })
    : keysOf().byReadState.fromComposite.toKeys({ userId, readState: 'read', notificationId });

const sameKey = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([field, value]) => a[field] === value);

/** A walk's cursor; the key it carries is checked by `pageOf` against the user's partition when it is read. */
function walkPositionOf(cursor: string): WalkPosition {
  const { phase, since, ...key } = decodeCursor(cursor) ?? {};
  if ((phase !== 'unread' && phase !== 'read') || typeof since !== 'string' || !isUtcInstant(since)) throw badCursor();
  return { phase, since, key };
}

const cursorOf = (at: WalkPosition | null) => at && encodeCursor({ ...at.key, phase: at.phase, since: at.since });

/**
 * Phase 1 of a walk: the notifications that were unread at `since`, newest first, whether read
 * since or not. Read in the primary key, which marking read does not change, so that marking
 * moves nothing past the cursor.
 */
const unreadAt = (userId: string, since: string) => {
  const now = clock.epochSeconds();
  return notificationDb.notification.query
    .byId({ userId })
    .where(
      ({ readState, readAt, ttl }, { eq, gte, gt }) =>
        `(${eq(readState, 'unread')} OR ${gte(readAt, since)}) AND ${gt(ttl, now)}`,
    );
};

/** Phase 2: those read before `since`, newest first. Read is final: none of them moves, none joins them. */
const readBefore = (userId: string, since: string) => byState(userId, 'read').where(({ readAt }, { lt }) => lt(readAt, since));

/**
 * One page of a walk of the whole list, unread first. One query of gsi1 read page after page (as
 * the `unread` lists are) would move a notification marked read between two pages behind the
 * cursor, to be listed again. So a walk reads in two phases of keys that do not move: what was
 * unread at its first page (`since`), then what was read before. It lists each notification that
 * existed at its first page once, marked read meanwhile or not (one marked read before it was
 * shown is listed among the unread ones, `isRead` true); one created since is not listed.
 *
 * Each page is one read (with the COUNT of the unread and the HTTP kit's read of the profile,
 * the route's 3 DynamoDB requests). The first page is gsi1's, which still holds the walk's order
 * then. A later page reads `WALK_READ` items of its phase and keeps those of the walk: it may be
 * short, even empty, while `nextCursor` is not null (the page where phase 1 ends is short too:
 * phase 2 starts on the next).
 */
async function walkPage(
  userId: string,
  cursor: string | undefined,
  limit: number,
): Promise<{ items: Notification[]; next: WalkPosition | null }> {
  if (cursor === undefined) {
    const first = await byState(userId).go({ limit, order: 'desc' });
    // After the read: a notification the caller marks read once it has seen this page was read since.
    const since = clock.nowIso();
    const after = first.cursor ? decodeCursor(first.cursor) : undefined;
    if (!after) return { items: first.data, next: null };
    // The last key the read looked at tells whether the walk is still among the unread.
    const { readState, notificationId } = keysOf().byReadState.fromKeys.toComposite(after as Record<string, string>);
    const phase = readState === 'read' ? 'read' : 'unread';
    return { items: first.data, next: { phase, since, key: keyAfter(userId, phase, { notificationId: notificationId! }) } };
  }
  const at = walkPositionOf(cursor);
  const query = at.phase === 'unread' ? unreadAt(userId, at.since) : readBefore(userId, at.since);
  const from = at.phase === 'read' && sameKey(at.key, readStart(userId)) ? null : encodeCursor(at.key);
  // A cursor of another user, or one this list never handed out, is a 400 (pageOf).
  const read = await pageOf(query, { cursor: from, limit: WALK_READ, order: 'desc' });
  const items = read.data.slice(0, limit);
  const last = items.at(-1);
  if (last && items.length < read.data.length) return { items, next: { ...at, key: keyAfter(userId, at.phase, last) } };
  if (read.cursor) return { items, next: { ...at, key: decodeCursor(read.cursor)! } };
  if (at.phase === 'unread') return { items, next: { phase: 'read', since: at.since, key: readStart(userId) } };
  return { items, next: null };
}

/** One page of the unread or the read ones: one query of gsi1's `unread` or `read` prefix. */
async function statePage(userId: string, readState: 'unread' | 'read', cursor: string | undefined, limit: number) {
  // A cursor of the whole list names its phase: it continues no other list.
  if (cursor !== undefined && 'phase' in (decodeCursor(cursor) ?? {})) throw badCursor();
  // A cursor of another user, or one this list never handed out, is a 400 (pageOf).
  return pageOf(byState(userId, readState), { cursor, limit, order: 'desc' });
}

/**
 * The user's notifications, unread first (newest first), then read (newest first): a walk of
 * two phases (`walkPage`). `unread: true` lists only unread ones, `false` only read ones, as one
 * paginated query of gsi1's `unread` or `read` prefix: marking read takes an item out of the
 * first, and puts it into the second where it was not listed yet.
 */
export async function listNotifications(userId: string, options: { cursor?: string; limit?: number; unread?: boolean } = {}) {
  const limit = options.limit ?? 20;
  const [page, unread] = await Promise.all([
    options.unread === undefined
      ? walkPage(userId, options.cursor, limit).then(({ items, next }) => ({ data: items, cursor: cursorOf(next) }))
      : statePage(userId, options.unread ? 'unread' : 'read', options.cursor, limit),
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
 * Transactions one call of `markAllRead` sends at most: each lost race (an item of the batch
 * marked read by another request meanwhile) costs one more.
 */
const MARK_ALL_ATTEMPTS = 3;

/**
 * Marks the user's unread notifications read, newest first, up to `MARK_ALL_BATCH` per call
 * in one transaction (each item on the condition that it is still unread). When an item
 * changed in between (marked read by another request, or expired), the transaction is
 * canceled and re-sent without it, up to `MARK_ALL_ATTEMPTS` transactions in all. `remaining`
 * counts the unread left for another call: those past the batch, and, when the last
 * transaction was canceled too, from the first unread on (the batch's own still among them).
 */
export async function markAllRead(userId: string): Promise<{ marked: number; remaining: number }> {
  const page = await byState(userId, 'unread').go({ limit: MARK_ALL_BATCH, order: 'desc' });
  let pending = page.data;
  if (!pending.length) await requireLiveAccount(userId);
  const at = clock.nowIso();
  let marked = 0;
  for (let attempt = 1; pending.length && attempt <= MARK_ALL_ATTEMPTS; attempt++) {
    const outcome = await transactWrite([...pending.map((n) => update(markReadOf(n, at))), accountNotDeletedCheck(userId)]);
    if (!outcome.canceled) {
      marked = pending.length;
      pending = [];
    } else {
      if (outcome.reasons[pending.length] === 'ConditionalCheckFailed') throw accountGone();
      // Only an item whose own condition failed is read (or expired) already; the others are still unread.
      pending = pending.filter((_, i) => outcome.reasons[i] !== 'ConditionalCheckFailed');
    }
  }
  const unread = byState(userId, 'unread').params({ order: 'desc' });
  if (pending.length) return { marked, remaining: (await countOf(unread, UNREAD_COUNT_CAP)).count };
  // The page's cursor is ElectroDB's LastEvaluatedKey (base64url JSON): count what lies past it.
  const after = page.cursor ? JSON.parse(Buffer.from(page.cursor, 'base64url').toString('utf8')) : undefined;
  return { marked, remaining: after ? (await countOf(unread, UNREAD_COUNT_CAP, after)).count : 0 };
}
