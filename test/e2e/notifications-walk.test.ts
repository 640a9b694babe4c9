import { describe, expect, it } from 'vitest';
import { MARK_ALL_BATCH, markRead as markReadNow } from '@platform/domain/notifications/inbox';
import { notify } from '@platform/domain/notifications/notify';
import { api, signUpUser, type SignedInUser } from '../helpers/api.ts';
import {
  inboxTitles,
  listInbox,
  markInboxRead,
  readAllInbox,
  sendNotifications,
  type InboxItem,
} from '../helpers/notifications.ts';

const decode = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
const encode = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

/**
 * Pages through the whole list (`api` holds each page to the DynamoDB request budget), handing
 * each page to `seen` before asking for the next, as an inbox does; answers every item in order.
 */
async function walk(u: SignedInUser, limit: number, seen: (items: InboxItem[], page: number) => Promise<void> = async () => {}) {
  const items: InboxItem[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const res = await listInbox(u, `?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...res.body.items);
    await seen(res.body.items, page);
    cursor = res.body.nextCursor;
    if (!cursor) return items;
  }
  throw new Error(`no end after 100 pages: ${items.map((n) => n.title).join(',')}`);
}

/** An inbox marking read each unread one it shows. */
const markingShown = (u: SignedInUser) => async (items: InboxItem[]) => {
  for (const n of items) if (!n.isRead) expect((await markInboxRead(u, n.notificationId)).status).toBe(204);
};

describe('paging through all notifications while they are marked read', () => {
  it('an inbox marking each one read as it shows it lists every notification once, those unread at its start first', async () => {
    const u = await signUpUser('ntf-walk');
    const ids = await sendNotifications(u, ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9']);
    for (const i of [1, 4, 7]) expect((await markInboxRead(u, ids[i]!)).status).toBe(204);

    const seen = await walk(u, 3, markingShown(u));
    expect(seen.map((n) => n.title)).toEqual(['n9', 'n8', 'n6', 'n5', 'n3', 'n2', 'n0', 'n7', 'n4', 'n1']);
    expect((await listInbox(u)).body.unreadCount).toBe(0);
  });

  it('read-all on another device mid-way neither repeats nor hides one: the rest of those unread at the start still come first', async () => {
    const u = await signUpUser('ntf-walk-all');
    const ids = await sendNotifications(u, ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
    expect((await markInboxRead(u, ids[2]!)).status).toBe(204);

    const seen = await walk(u, 2, async (_, page) => {
      if (page === 0) expect((await readAllInbox(u)).body).toEqual({ marked: 6, remaining: 0 });
    });
    expect(seen.map((n) => n.title)).toEqual(['n6', 'n5', 'n4', 'n3', 'n1', 'n0', 'n2']);
    // Each is shown as it is when its page is read: those after read-all, read.
    expect(seen.map((n) => n.isRead)).toEqual([false, false, true, true, true, true, true]);
  });

  it('one that arrives mid-way is left to the next first page, which shows it first', async () => {
    const u = await signUpUser('ntf-walk-new');
    await sendNotifications(u, ['n0', 'n1', 'n2', 'n3']);
    const seen = await walk(u, 2, async (_, page) => {
      if (page === 0) await sendNotifications(u, ['late']);
    });
    expect(seen.map((n) => n.title)).toEqual(['n3', 'n2', 'n1', 'n0']);
    expect(inboxTitles((await listInbox(u, '?limit=1')).body)).toEqual(['late']);
  });

  it('past more read ones than a page reads at once, pages may be short, even empty, and the walk still lists each once', async () => {
    const u = await signUpUser('ntf-walk-long');
    // An unread one, older than 101 read ones, older than two unread ones.
    await sendNotifications(u, ['oldest']);
    const sent = await Promise.all(
      Array.from({ length: 101 }, (_, i) => notify({ userId: u.userId, type: 'system', title: `r${i}`, message: 'Read' })),
    );
    await Promise.all(sent.map((s) => markReadNow(u.userId, s.notificationId)));
    await sendNotifications(u, ['new0', 'new1']);

    const sizes: number[] = [];
    const seen = await walk(u, 2, async (items) => {
      sizes.push(items.length);
      await markingShown(u)(items);
    });
    expect(seen.slice(0, 3).map((n) => n.title)).toEqual(['new1', 'new0', 'oldest']);
    expect(seen).toHaveLength(104);
    expect(new Set(seen.map((n) => n.notificationId)).size).toBe(104);
    expect(sizes.slice(0, 3)).toEqual([2, 0, 1]); // the unread ones, 100 read ones looked at, the end of the unread
  });
});

describe('the cursor of the whole list', () => {
  it("is refused (400) on another user's list, with another start time or phase, and on the unread or read list", async () => {
    const [u, other] = await Promise.all([signUpUser('ntf-walk-cursor'), signUpUser('ntf-walk-cursor-other')]);
    const ids = await sendNotifications(u, ['n0', 'n1', 'n2', 'n3', 'n4']);
    await sendNotifications(other, ['o0', 'o1', 'o2', 'o3', 'o4']);
    expect((await markInboxRead(u, ids[0]!)).status).toBe(204);
    expect((await markInboxRead(other, (await listInbox(other)).body.items[4].notificationId)).status).toBe(204);

    const first = await listInbox(u, '?limit=2');
    expect(inboxTitles(first.body)).toEqual(['n4', 'n3']);
    const amongUnread = first.body.nextCursor as string;
    const second = await listInbox(u, `?limit=2&cursor=${amongUnread}`);
    expect(inboxTitles(second.body)).toEqual(['n2', 'n1']);
    const readStart = second.body.nextCursor as string;
    const third = await listInbox(u, `?limit=2&cursor=${readStart}`);
    expect(third.body).toMatchObject({ nextCursor: null });
    expect(inboxTitles(third.body)).toEqual(['n0']);
    const amongRead = (await listInbox(u, '?limit=5')).body.nextCursor as string;

    for (const cursor of [amongUnread, readStart, amongRead]) {
      const what = JSON.stringify(decode(cursor));
      expect((await listInbox(u, `?cursor=${cursor}`)).status, what).toBe(200);
      expect((await listInbox(other, `?cursor=${cursor}`)).status, what).toBe(400);
      expect((await listInbox(u, `?unread=true&cursor=${cursor}`)).status, what).toBe(400);
      expect((await listInbox(u, `?unread=false&cursor=${cursor}`)).status, what).toBe(400);
      for (const since of ['yesterday', 17, null, '2025-13-45T00:00:00.000Z', '2025-01-01'])
        expect((await listInbox(u, `?cursor=${encode({ ...decode(cursor), since })}`)).status, `${what} ${since}`).toBe(400);
      for (const phase of ['all', 1, undefined])
        expect((await listInbox(u, `?cursor=${encode({ ...decode(cursor), phase })}`)).status, `${what} ${phase}`).toBe(400);
    }
    // A cursor of the unread or the read list continues neither the whole list nor the other one.
    const unreadCursor = (await listInbox(u, '?unread=true&limit=1')).body.nextCursor;
    const readCursor = (await listInbox(other, '?unread=false&limit=1')).body.nextCursor;
    expect((await listInbox(u, `?cursor=${unreadCursor}`)).status).toBe(400);
    expect((await listInbox(u, `?unread=false&cursor=${unreadCursor}`)).status).toBe(400);
    expect((await listInbox(other, `?cursor=${readCursor}`)).status).toBe(400);
  });
});

describe('read-all', () => {
  it(`says in the API description that it marks up to ${MARK_ALL_BATCH} per call, as it does`, async () => {
    const { body: doc } = await api('GET', '/openapi.json');
    expect(doc.paths['/v1/me/notifications/read-all'].post.summary).toContain(`up to ${MARK_ALL_BATCH} per call`);
  });
});
