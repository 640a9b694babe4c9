import { listMyNotifications as route } from '@platform/api/routes/notifications';
import { listNotifications } from '@platform/domain/notifications/inbox';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, query }) => listNotifications(userOf(caller).userId, query));
