import { forgotPassword as route } from '@platform/api/routes/identity/auth';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body }) => {
  const { requestPasswordReset } = await import('@platform/domain/identity/auth');
  await requestPasswordReset(body.email);
  return { status: 'accepted' as const };
});
