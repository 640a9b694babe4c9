import { type EntityItem } from 'electrodb';
import { Entity, SERVICE, entityConfig, lazy } from '../shared/dynamo.ts';
import { NOTIFICATION_TYPES } from './enums.ts';
export { NOTIFICATION_TYPES, type NotificationType } from './enums.ts';

/**
 * Notifications (DOMAIN.md §5, seed 003 `Notification`): messages to one user, kept for a
 * retention period and then removed by the table's TTL (`ttl`, epoch seconds).
 *
 * Keys, and why:
 * - primary (`userId`, `notificationId`): a notification is only ever reached under the
 *   caller's own user id, so another user's id is simply not found (no tenant check to
 *   forget). `notificationId` is a sortable `ntf_` id (ULID layout), so ids sort by time.
 * - gsi1 (`userId`, `readState#notificationId`), read newest first: `unread` sorts after
 *   `read`, so ONE descending query over the user's gsi1 partition yields every unread
 *   notification (newest first) and then the read ones (newest first). That is the seed's
 *   index on (userId, isRead, createdAt) and its partial "unread" index in one: `unread only`
 *   is the same query narrowed to the `unread` prefix, and the unread count is a COUNT over
 *   that prefix. Marking read rewrites `readState`, which moves the item in gsi1.
 *   `isRead` (the API's field) and `readState` (the key part) change together, only in
 *   `createNotification` and the mark-read writes.
 */
const service = SERVICE;
const config = entityConfig;

/** `unread` > `read` as strings: a descending gsi1 query lists unread first. */
export const READ_STATES = ['unread', 'read'] as const;

const NotificationEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'notification', version: '1', service },
        attributes: {
          userId: { type: 'string', required: true, readOnly: true },
          notificationId: { type: 'string', required: true, readOnly: true },
          orgId: { type: 'string', readOnly: true },
          type: { type: NOTIFICATION_TYPES, required: true, readOnly: true },
          title: { type: 'string', required: true },
          message: { type: 'string', required: true },
          metadata: { type: 'any' },
          isRead: { type: 'boolean', required: true, default: false },
          readState: { type: READ_STATES, required: true, default: 'unread' },
          readAt: { type: 'string' },
          createdAt: { type: 'string', required: true, readOnly: true },
          /** Epoch seconds: DynamoDB's TTL removes the notification after its retention. */
          ttl: { type: 'number', required: true, readOnly: true },
        },
        indexes: {
          byId: { pk: { field: 'pk', composite: ['userId'] }, sk: { field: 'sk', composite: ['notificationId'] } },
          byReadState: {
            index: 'gsi1',
            pk: { field: 'gsi1pk', composite: ['userId'] },
            sk: { field: 'gsi1sk', composite: ['readState', 'notificationId'] },
          },
        },
      },
      config(),
    ),
);

/**
 * One row per (recipient, dedupe key): written in the same transaction as the notification,
 * on the condition that it does not exist yet, so a retried send creates one notification.
 * The key is stored hashed (keys are case-folded by ElectroDB; a hash keeps them distinct
 * and bounded). It expires with the notification it guards.
 */
const NotificationDedupeEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'notificationdedupe', version: '1', service },
        attributes: {
          userId: { type: 'string', required: true, readOnly: true },
          dedupeHash: { type: 'string', required: true, readOnly: true },
          notificationId: { type: 'string', required: true, readOnly: true },
          ttl: { type: 'number', required: true, readOnly: true },
        },
        indexes: {
          byKey: { pk: { field: 'pk', composite: ['userId', 'dedupeHash'] }, sk: { field: 'sk', composite: [] } },
        },
      },
      config(),
    ),
);

export const notificationDb = {
  get notification() {
    return NotificationEntity();
  },
  get dedupe() {
    return NotificationDedupeEntity();
  },
};

export type Notification = EntityItem<ReturnType<typeof NotificationEntity>>;
