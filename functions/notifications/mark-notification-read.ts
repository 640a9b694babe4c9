import { markNotificationRead as route } from '@platform/api/routes/notifications';
import { markRead } from '@platform/domain/notifications/inbox';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => markRead(userOf(caller).userId, params.notificationId));
