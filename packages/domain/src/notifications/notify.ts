import { createHash } from 'node:crypto';
import { clock } from '../shared/clock.ts';
import { ValidationError, type FieldError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { put, transactWrite, type WriteItem } from '../shared/transactions.ts';
import { isMembershipLive } from '../identity/access.ts';
import { db } from '../identity/entities.ts';
import { notificationDb, type Notification, type NotificationType } from './entities.ts';

/**
 * The one API other capabilities use to tell a user something (billing: low balance,
 * payment received or failed, trial ending, subscription changed; identity: invitations).
 * A notification lives for `RETENTION_DAYS`, then the table's TTL removes it.
 */
export const RETENTION_DAYS = 90;
const DAY_SECONDS = 86_400;
const MAX_TITLE = 200;
const MAX_MESSAGE = 4_000;
const MAX_DEDUPE_KEY = 512;

export interface NotifyInput {
  userId: string;
  orgId?: string;
  type: NotificationType;
  title: string;
  message: string;
  metadata?: Record<string, unknown>;
  /** Makes a retried send create one notification: a second send with the key is a no-op. */
  dedupeKey?: string;
}

export interface NotifyResult {
  notificationId: string;
  /** False when a notification with the same dedupe key had already been sent to this user. */
  created: boolean;
}

/** Roles of an organization that hear about its billing. */
export const ADMIN_ROLES = ['owner', 'admin'] as const;

function checkInput(input: Omit<NotifyInput, 'userId'>) {
  const errors: FieldError[] = [];
  if (!input.title.trim() || input.title.length > MAX_TITLE) errors.push({ path: 'title', message: `1–${MAX_TITLE} characters` });
  if (!input.message.trim() || input.message.length > MAX_MESSAGE)
    errors.push({ path: 'message', message: `1–${MAX_MESSAGE} characters` });
  if (input.dedupeKey !== undefined && (!input.dedupeKey || input.dedupeKey.length > MAX_DEDUPE_KEY))
    errors.push({ path: 'dedupeKey', message: `1–${MAX_DEDUPE_KEY} characters` });
  if (errors.length) throw new ValidationError('The notification is not valid', errors);
}

/**
 * A new notification as a transaction item, for a capability that records it together with
 * its own change in one request (an invitation and its notification, for example).
 */
export function notificationPut(input: Omit<NotifyInput, 'dedupeKey'>): { item: Notification; write: WriteItem } {
  const item = newNotification(input);
  return { item, write: put(notificationDb.notification.create(item)) };
}

function newNotification(input: Omit<NotifyInput, 'dedupeKey'>): Notification {
  checkInput(input);
  const now = clock.now();
  const item = {
    userId: input.userId,
    notificationId: newId('ntf', now.getTime()),
    orgId: input.orgId,
    type: input.type,
    title: input.title,
    message: input.message,
    metadata: input.metadata,
    isRead: false,
    readState: 'unread' as const,
    createdAt: now.toISOString(),
    ttl: Math.floor(now.getTime() / 1000) + RETENTION_DAYS * DAY_SECONDS,
  };
  return item as Notification;
}

const hashOf = (dedupeKey: string) => createHash('sha256').update(dedupeKey).digest('hex');

/**
 * Sends one notification to one user. Without a dedupe key: one PutItem. With one: one
 * transaction of the notification and a guard row keyed by (user, key) that must not exist
 * yet, so parallel or later retries find the guard and answer the first notification's id
 * (one more consistent read) instead of creating another.
 */
export async function notify(input: NotifyInput): Promise<NotifyResult> {
  const item = newNotification(input);
  if (input.dedupeKey === undefined) {
    await notificationDb.notification.create(item).go({ response: 'none' });
    return { notificationId: item.notificationId, created: true };
  }
  const dedupeHash = hashOf(input.dedupeKey);
  const guard = { userId: input.userId, dedupeHash, notificationId: item.notificationId, ttl: item.ttl };
  const outcome = await transactWrite([put(notificationDb.dedupe.create(guard)), put(notificationDb.notification.create(item))]);
  if (!outcome.canceled) return { notificationId: item.notificationId, created: true };
  const { data: first } = await notificationDb.dedupe.get({ userId: input.userId, dedupeHash }).go({ consistent: true });
  // The guard failed its condition, so it exists (it expires with the notification it guards).
  return { notificationId: first?.notificationId ?? item.notificationId, created: false };
}

/**
 * Notifies every live owner and admin of an organization (one query of its memberships,
 * then one send each). A dedupe key applies per recipient: a retry reaches nobody twice.
 */
export async function notifyOrgAdmins(
  orgId: string,
  input: Omit<NotifyInput, 'userId' | 'orgId'>,
): Promise<Array<NotifyResult & { userId: string }>> {
  checkInput(input);
  const { data: members } = await db.membership.query.byOrg({ orgId }).go({ pages: 'all' });
  const recipients = members.filter((m) => (ADMIN_ROLES as readonly string[]).includes(m.role) && isMembershipLive(m));
  return Promise.all(
    recipients.map(async (m) => ({ userId: m.userId, ...(await notify({ ...input, userId: m.userId, orgId })) })),
  );
}
