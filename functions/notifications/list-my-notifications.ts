import { listMyNotifications as route } from '@platform/api/routes/notifications';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, query }) => {
  const { listNotifications } = await import('@platform/domain/notifications/inbox');
  return listNotifications(userOf(caller).userId, query);
});
