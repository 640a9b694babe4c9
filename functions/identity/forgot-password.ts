import { forgotPassword as route } from '@platform/api/routes/identity/auth';
import { requestPasswordReset } from '@platform/domain/identity/auth';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body }) => {
  await requestPasswordReset(body.email);
  return { status: 'accepted' as const };
});
