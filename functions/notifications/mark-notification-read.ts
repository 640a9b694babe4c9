import { markNotificationRead as route } from '@platform/api/routes/notifications';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadInbox = lazy(() => import('@platform/domain/notifications/inbox'));

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { markRead } = await loadInbox();
  return markRead(userOf(caller).userId, params.notificationId);
});
