import { markAllNotificationsRead as route } from '@platform/api/routes/notifications';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller }) => {
  const { markAllRead } = await import('@platform/domain/notifications/inbox');
  return markAllRead(userOf(caller).userId);
});
