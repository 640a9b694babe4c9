import { refresh as route } from '@platform/api/routes/identity/auth';
import { refreshSession } from '@platform/domain/identity/sessions';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body }) => refreshSession(body.refreshToken));
