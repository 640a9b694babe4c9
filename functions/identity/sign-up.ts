import { signUp as route } from '@platform/api/routes/identity/auth';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body }) => {
  const { identityProvider } = await import('@platform/domain/identity/cognito');
  const { userId, confirmed } = await identityProvider.signUp(body.email, body.password, body.fullName);
  return { userId, confirmed, delivery: 'email' as const };
});
