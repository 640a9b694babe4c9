import { markAllNotificationsRead as route } from '@platform/api/routes/notifications';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadInbox = lazy(() => import('@platform/domain/notifications/inbox'));

export const handler = httpHandler(route, async ({ caller }) => {
  const { markAllRead } = await loadInbox();
  return markAllRead(userOf(caller).userId);
});
