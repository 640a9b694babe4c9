import { confirmForgotPassword as route } from '@platform/api/routes/identity/auth';
import { resetPassword } from '@platform/domain/identity/auth';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body }) => resetPassword(body.email, body.code, body.password));
