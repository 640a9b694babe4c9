import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { db } from '@platform/domain/identity/entities';
import { notificationDb } from '@platform/domain/notifications/entities';
import { listNotifications, markAllRead, markRead } from '@platform/domain/notifications/inbox';
import { notify, notifyOrgAdmins, RETENTION_DAYS } from '@platform/domain/notifications/notify';
import { TTL_ATTRIBUTE } from '@platform/domain/shared/table';

const newOrg = () => `org_${randomUUID().replace(/-/g, '').slice(0, 26)}`;

async function notificationsOf(userId: string) {
  const { data } = await notificationDb.notification.query.byId({ userId }).go({ pages: 'all' });
  return data;
}

describe('notifications against DynamoDB Local', () => {
  it('create one notification however often a send with a dedupe key is retried, even in parallel', async () => {
    const userId = randomUUID();
    const send = () =>
      notify({ userId, type: 'payment-received', title: 'Payment received', message: '€10', dedupeKey: 'pi_123:succeeded' });
    const results = await Promise.all(Array.from({ length: 8 }, send));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.notificationId)).size).toBe(1);
    expect(await send()).toEqual({ notificationId: results[0]!.notificationId, created: false });
    expect(await notificationsOf(userId)).toHaveLength(1);

    // Another key, even one differing only in case, is another notification; so is a send without a key.
    await notify({ userId, type: 'payment-received', title: 'Payment received', message: '€10', dedupeKey: 'PI_123:succeeded' });
    await notify({ userId, type: 'system', title: 'Hello', message: 'No key' });
    await notify({ userId, type: 'system', title: 'Hello', message: 'No key' });
    expect(await notificationsOf(userId)).toHaveLength(4);
  });

  it('reach the owners and admins of an organization, not editors, viewers or former admins', async () => {
    const orgId = newOrg();
    const people = { owner: randomUUID(), admin: randomUUID(), editor: randomUUID(), viewer: randomUUID(), gone: randomUUID() };
    const at = new Date().toISOString();
    await Promise.all(
      Object.entries(people).map(([role, userId]) =>
        db.membership
          .create({
            orgId,
            userId,
            email: `${role}-${userId.slice(0, 6)}@example.test`,
            role: role === 'gone' ? 'admin' : role,
            assignedBy: people.owner,
            assignedAt: at,
            isActive: role !== 'gone',
          })
          .go(),
      ),
    );
    const input = {
      type: 'low-balance' as const,
      title: 'Credits are running low',
      message: '12 credits left',
      metadata: { available: 12 },
      dedupeKey: `low-balance:${orgId}:2025-01`,
    };
    const sent = await notifyOrgAdmins(orgId, input);
    expect(sent.map((s) => s.userId).sort()).toEqual([people.owner, people.admin].sort());
    expect((await notifyOrgAdmins(orgId, input)).every((s) => !s.created)).toBe(true); // a retry reaches nobody twice

    for (const [role, userId] of Object.entries(people)) {
      const mine = await notificationsOf(userId);
      expect(mine, role).toHaveLength(role === 'owner' || role === 'admin' ? 1 : 0);
      if (mine.length) expect(mine[0]).toMatchObject({ orgId, type: 'low-balance', metadata: { available: 12 }, isRead: false });
    }
  });

  it(`set the TTL attribute to ${RETENTION_DAYS} days after creation`, async () => {
    const userId = randomUUID();
    const { notificationId } = await notify({ userId, type: 'trial-ending', title: 'Trial ends soon', message: '3 days left' });
    const { data: raw } = (await notificationDb.notification.get({ userId, notificationId }).go({ data: 'raw' })) as unknown as {
      data: { Item: Record<string, unknown> };
    };
    const expected = Math.floor(Date.now() / 1000) + 90 * 86_400;
    expect(TTL_ATTRIBUTE).toBe('ttl');
    expect(typeof raw.Item[TTL_ATTRIBUTE]).toBe('number');
    expect(Math.abs((raw.Item[TTL_ATTRIBUTE] as number) - expected)).toBeLessThan(60);
    const { items } = await listNotifications(userId);
    expect(Date.parse(items[0]!.expiresAt)).toBe((raw.Item[TTL_ATTRIBUTE] as number) * 1000);
  });

  it('keep isRead and the unread-first index in step through mark-read and mark-all-read', async () => {
    const userId = randomUUID();
    const ids: string[] = [];
    for (const title of ['a', 'b', 'c']) {
      ids.push((await notify({ userId, type: 'system', title, message: title })).notificationId);
      await new Promise((r) => setTimeout(r, 3));
    }
    await markRead(userId, ids[2]!);
    await expect(markRead(randomUUID(), ids[0]!)).rejects.toMatchObject({ status: 404 });
    let page = await listNotifications(userId);
    expect(page.items.map((n) => [n.title, n.isRead])).toEqual([
      ['b', false],
      ['a', false],
      ['c', true],
    ]);
    expect(page.unreadCount).toBe(2);
    expect(await markAllRead(userId)).toEqual({ marked: 2, remaining: 0 });
    page = await listNotifications(userId, { unread: true });
    expect(page).toMatchObject({ items: [], unreadCount: 0 });
    const stored = await notificationsOf(userId);
    expect(stored.map((n) => n.readState)).toEqual(['read', 'read', 'read']);
  });
});
