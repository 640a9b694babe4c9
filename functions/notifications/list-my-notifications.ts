import { listMyNotifications as route } from '@platform/api/routes/notifications';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadInbox = lazy(() => import('@platform/domain/notifications/inbox'));

export const handler = httpHandler(route, async ({ caller, query }) => {
  const { listNotifications } = await loadInbox();
  return listNotifications(userOf(caller).userId, query);
});
