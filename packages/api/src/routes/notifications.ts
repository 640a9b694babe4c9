import { defineRoute } from '@platform/http/route';
import {
  markAllReadResponse,
  notificationParams,
  notificationsPage,
  notificationsQuery,
} from '@platform/domain/notifications/schemas';

/** The signed-in user's notifications: list (unread first), mark one or all read. */
const tag = 'Notifications';

export const listMyNotifications = defineRoute({
  id: 'listMyNotifications',
  method: 'GET',
  path: '/v1/me/notifications',
  handler: 'notifications/list-my-notifications',
  auth: 'user',
  tag,
  summary: 'Your notifications: unread first (newest first), then read; with the unread count',
  schemas: { query: notificationsQuery, response: notificationsPage },
});
export const markNotificationRead = defineRoute({
  id: 'markNotificationRead',
  method: 'POST',
  path: '/v1/me/notifications/{notificationId}/read',
  handler: 'notifications/mark-notification-read',
  auth: 'user',
  tag,
  summary: 'Mark one of your notifications read',
  successStatus: 204,
  schemas: { params: notificationParams },
});
export const markAllNotificationsRead = defineRoute({
  id: 'markAllNotificationsRead',
  method: 'POST',
  path: '/v1/me/notifications/read-all',
  handler: 'notifications/mark-all-notifications-read',
  auth: 'user',
  refusesDeletedAccount: true,
  tag,
  summary: 'Mark your unread notifications read, up to 99 per call; says how many remain',
  errors: [409],
  schemas: { response: markAllReadResponse },
});
