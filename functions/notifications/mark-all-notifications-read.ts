import { markAllNotificationsRead as route } from '@platform/api/routes/notifications';
import { markAllRead } from '@platform/domain/notifications/inbox';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller }) => markAllRead(userOf(caller).userId));
