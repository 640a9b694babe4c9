import { beforeAll, describe, expect, it } from 'vitest';
import { notificationDb } from '@platform/domain/notifications/entities';
import { MARK_ALL_BATCH } from '@platform/domain/notifications/inbox';
import { notify, RETENTION_DAYS } from '@platform/domain/notifications/notify';
import { clock } from '@platform/domain/shared/clock';
import { api, createTeam, signUpUser, uniqueEmail, type SignedInUser } from '../helpers/api.ts';
import {
  inboxTitles,
  listInbox,
  markInboxRead,
  readAllInbox,
  sendNotifications,
  type InboxItem,
} from '../helpers/notifications.ts';

let user: SignedInUser;
let other: SignedInUser;
let bulk: SignedInUser;

beforeAll(async () => {
  [user, other, bulk] = await Promise.all([signUpUser('ntf-user'), signUpUser('ntf-other'), signUpUser('ntf-bulk')]);
  const [ids] = await Promise.all([sendNotifications(user, ['n1', 'n2', 'n3', 'n4']), sendNotifications(other, ['theirs'])]);
  expect((await markInboxRead(user, ids[0]!)).status).toBe(204);
  expect((await markInboxRead(user, ids[2]!)).status).toBe(204);
});

describe('notifications', () => {
  it('list unread first (newest first), then read (newest first), with the unread count', async () => {
    const res = await listInbox(user);
    expect(res.status).toBe(200);
    expect(inboxTitles(res.body)).toEqual(['n4', 'n2', 'n3', 'n1']);
    expect(res.body.items.map((n: InboxItem) => n.isRead)).toEqual([false, false, true, true]);
    expect(res.body).toMatchObject({ unreadCount: 2, unreadCountCapped: false, nextCursor: null });
    expect(res.body.items[0]).toMatchObject({ type: 'system', message: 'About n4', expiresAt: expect.any(String) });
    expect(res.body.items[2].readAt).toEqual(expect.any(String));
    // Nothing of the other user's shows up.
    expect(inboxTitles((await listInbox(other)).body)).toEqual(['theirs']);
  });

  it('are paginated by cursor in the same order, each one once', async () => {
    const first = await listInbox(user, '?limit=3');
    expect(inboxTitles(first.body)).toEqual(['n4', 'n2', 'n3']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await listInbox(user, `?limit=3&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(inboxTitles(second.body)).toEqual(['n1']);
    expect(second.body.nextCursor).toBeNull();
    expect(second.body.unreadCount).toBe(2);
    // Not a cursor, or one that decodes to `null` or `false` (which would read as no cursor: the first page again).
    for (const junk of ['bm90LWEtY3Vyc29y', 'bnVsbA', 'ZmFsc2U'])
      expect((await listInbox(user, `?cursor=${junk}`)).status, junk).toBe(400);
    // A cursor of another user's list leads nowhere: it is refused, nothing of theirs is read.
    const theirs = await listInbox(other, '?limit=1');
    expect(theirs.body.nextCursor).toEqual(expect.any(String));
    expect((await listInbox(user, `?cursor=${encodeURIComponent(theirs.body.nextCursor)}`)).status).toBe(400);
    // The user's own nextCursor with a key set to a number past what DynamoDB takes (the SDK threw: a 500).
    const own = JSON.parse(Buffer.from(first.body.nextCursor, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...own, gsi1sk: 9007199254740993 })).toString('base64url');
    expect((await listInbox(user, `?cursor=${forged}`)).status).toBe(400);
  });

  it('filter on unread=true (only unread) and unread=false (only read)', async () => {
    expect(inboxTitles((await listInbox(user, '?unread=true')).body)).toEqual(['n4', 'n2']);
    expect(inboxTitles((await listInbox(user, '?unread=false')).body)).toEqual(['n3', 'n1']);
    expect((await listInbox(user, '?unread=maybe')).status).toBe(400);
  });

  it('mark one read (204, again 204), which moves it behind the unread ones', async () => {
    const [a, b] = await sendNotifications(other, ['m1', 'm2']);
    expect((await markInboxRead(other, a!)).status).toBe(204);
    expect((await markInboxRead(other, a!)).status).toBe(204);
    const res = await listInbox(other);
    expect(inboxTitles(res.body)).toEqual(['m2', 'theirs', 'm1']);
    expect(res.body.unreadCount).toBe(2);
    expect(res.body.items.find((n: InboxItem) => n.notificationId === b)!.isRead).toBe(false);
  });

  it("answer 404 for another user's notification or an unknown one, and leave it unread", async () => {
    const [theirs] = await sendNotifications(other, ['private']);
    const res = await markInboxRead(user, theirs!);
    expect(res.status).toBe(404);
    expect((await markInboxRead(user, 'ntf_01jq0000000000000000000000')).status).toBe(404);
    expect((await markInboxRead(user, 'not-an-id')).status).toBe(400);
    const mine = await listInbox(other, '?unread=true');
    expect(mine.body.items.map((n: InboxItem) => n.notificationId)).toContain(theirs);
  });

  it('read-all marks every unread one of the caller only, and says how many', async () => {
    const before = (await listInbox(other)).body.unreadCount as number;
    expect(before).toBeGreaterThan(0);
    const res = await api('POST', '/v1/me/notifications/read-all', { token: user.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ marked: 2, remaining: 0 });
    const after = await listInbox(user);
    expect(after.body.unreadCount).toBe(0);
    expect(after.body.items.every((n: InboxItem) => n.isRead && n.readAt)).toBe(true);
    expect(inboxTitles(after.body)).toEqual(['n4', 'n3', 'n2', 'n1']);
    expect((await api('POST', '/v1/me/notifications/read-all', { token: user.accessToken })).body).toEqual({
      marked: 0,
      remaining: 0,
    });
    expect((await listInbox(other)).body.unreadCount).toBe(before);
  });

  it('read-all works through a large backlog a batch per call, within the request budget', async () => {
    await Promise.all(
      Array.from({ length: 105 }, (_, i) => notify({ userId: bulk.userId, type: 'low-balance', title: `b${i}`, message: 'Low' })),
    );
    expect((await listInbox(bulk, '?limit=1')).body.unreadCount).toBe(105);
    const first = await api('POST', '/v1/me/notifications/read-all', { token: bulk.accessToken });
    expect(first.body).toEqual({ marked: MARK_ALL_BATCH, remaining: 105 - MARK_ALL_BATCH });
    expect((await listInbox(bulk, '?unread=true&limit=100')).body.items).toHaveLength(105 - MARK_ALL_BATCH);
    const second = await api('POST', '/v1/me/notifications/read-all', { token: bulk.accessToken });
    expect(second.body).toEqual({ marked: 105 - MARK_ALL_BATCH, remaining: 0 });
    expect((await listInbox(bulk, '?limit=1')).body.unreadCount).toBe(0);
  });

  it('are neither listed nor marked read for the token of a deleted account (404), and stay unread', async () => {
    const gone = await signUpUser('notif-deleted');
    await notify({ userId: gone.userId, type: 'system', title: 'Still here', message: 'Unread' });
    expect((await api('DELETE', '/v1/me', { token: gone.accessToken })).status).toBe(204);
    expect((await listInbox(gone)).status).toBe(404);
    expect((await api('POST', '/v1/me/notifications/read-all', { token: gone.accessToken })).status).toBe(404);
    const { data } = await notificationDb.notification.query.byId({ userId: gone.userId }).go();
    expect(data.map((n) => n.readState)).toEqual(['unread']);
  });

  it('leave out one past its retention that the TTL has not deleted yet: not listed, counted, nor marked', async () => {
    const late = await signUpUser('ntf-late');
    clock.advance(-(RETENTION_DAYS + 1) * 86_400_000);
    let expired: string | undefined;
    try {
      [expired] = await sendNotifications(late, ['expired']);
    } finally {
      clock.reset();
    }
    await sendNotifications(late, ['fresh']);
    const res = await listInbox(late);
    expect(inboxTitles(res.body)).toEqual(['fresh']);
    expect(res.body.unreadCount).toBe(1);
    expect(inboxTitles((await listInbox(late, '?unread=true')).body)).toEqual(['fresh']);
    expect((await markInboxRead(late, expired!)).status).toBe(404);
    const all = await api('POST', '/v1/me/notifications/read-all', { token: late.accessToken });
    expect(all.body).toEqual({ marked: 1, remaining: 0 });
    expect(inboxTitles((await listInbox(late, '?unread=false')).body)).toEqual(['fresh']);
  });

  it('tell someone with an account that they are invited to an organization', async () => {
    const invitee = await signUpUser('ntf-invitee');
    const { orgId } = await createTeam(user);
    const res = await api('POST', `/v1/orgs/${orgId}/invitations`, {
      token: user.accessToken,
      body: { email: invitee.email, role: 'editor' },
    });
    expect(res.status).toBe(201);
    const inbox = await listInbox(invitee);
    expect(inbox.body.items).toHaveLength(1);
    expect(inbox.body.items[0]).toMatchObject({
      type: 'invitation',
      orgId,
      isRead: false,
      metadata: { invitationId: res.body.invitationId, role: 'editor' },
    });
    // Someone without an account is invited by mail only; that still works.
    const stranger = await api('POST', `/v1/orgs/${orgId}/invitations`, {
      token: user.accessToken,
      body: { email: uniqueEmail('ntf-stranger'), role: 'viewer' },
    });
    expect(stranger.status).toBe(201);
  });
});
