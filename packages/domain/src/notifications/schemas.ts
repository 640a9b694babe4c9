import * as z from 'zod';
import { idOf, page, pageQuery } from '../shared/schemas.ts';
import { NOTIFICATION_TYPES } from './enums.ts';

/** The signed-in user's notifications. */
export const notificationParams = z.object({ notificationId: idOf('ntf') });

export const notificationsQuery = pageQuery.extend({
  unread: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: only unread; false: only read; absent: all, unread first'),
});

export const notificationResponse = z.object({
  notificationId: z.string(),
  orgId: z.string().optional(),
  type: z.enum(NOTIFICATION_TYPES),
  title: z.string(),
  message: z.string(),
  metadata: z.unknown().optional(),
  isRead: z.boolean(),
  readAt: z.string().optional(),
  createdAt: z.string(),
  expiresAt: z.string().describe('When the notification is removed (its retention ends)'),
});

export const notificationsPage = page(notificationResponse).extend({
  unreadCount: z.number().int().describe('Unread notifications in all (at most 1000; see unreadCountCapped)'),
  unreadCountCapped: z.boolean().describe('True when there are more unread notifications than unreadCount says'),
});

export const markAllReadResponse = z.object({
  marked: z.number().int().describe('Notifications marked read by this call'),
  remaining: z.number().int().describe('Unread notifications left (call again to mark them too)'),
});
