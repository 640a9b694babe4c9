import { notify } from '@platform/domain/notifications/notify';
import { api, type SignedInUser } from './api.ts';

/** A notification as the inbox lists it. */
export interface InboxItem {
  notificationId: string;
  type: string;
  title: string;
  isRead: boolean;
  readAt?: string;
  metadata?: Record<string, unknown>;
}

const pause = () => new Promise((r) => setTimeout(r, 3)); // distinct milliseconds: ids sort by time

/** Sends `titles` to `to` in order (oldest first), as the platform notifies; answers their ids. */
export async function sendNotifications(to: SignedInUser, titles: string[]) {
  const ids: string[] = [];
  for (const title of titles) {
    ids.push((await notify({ userId: to.userId, type: 'system', title, message: `About ${title}` })).notificationId);
    await pause();
  }
  return ids;
}

export const listInbox = (u: SignedInUser, query = '') => api('GET', `/v1/me/notifications${query}`, { token: u.accessToken });
export const inboxTitles = (body: { items: InboxItem[] }) => body.items.map((n) => n.title);
export const markInboxRead = (u: SignedInUser, id: string) =>
  api('POST', `/v1/me/notifications/${id}/read`, { token: u.accessToken });
export const readAllInbox = (u: SignedInUser) => api('POST', '/v1/me/notifications/read-all', { token: u.accessToken });
