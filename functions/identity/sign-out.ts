import { signOut as route } from '@platform/api/routes/identity/auth';
import { signOut } from '@platform/domain/identity/sessions';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body }) => signOut(body.refreshToken));
