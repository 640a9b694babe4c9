import { signUp as route } from '@platform/api/routes/identity/auth';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadCognito = lazy(() => import('@platform/domain/identity/cognito'));

export const handler = httpHandler(route, async ({ body }) => {
  const { identityProvider } = await loadCognito();
  const { userId, confirmed } = await identityProvider.signUp(body.email, body.password, body.fullName);
  return { userId, confirmed, delivery: 'email' as const };
});
