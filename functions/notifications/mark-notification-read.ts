import { markNotificationRead as route } from '@platform/api/routes/notifications';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { markRead } = await import('@platform/domain/notifications/inbox');
  return markRead(userOf(caller).userId, params.notificationId);
});
