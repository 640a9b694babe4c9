import { confirmForgotPassword as route } from '@platform/api/routes/identity/auth';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadCognito = lazy(() => import('@platform/domain/identity/cognito'));

export const handler = httpHandler(route, async ({ body }) => {
  const { identityProvider } = await loadCognito();
  await identityProvider.confirmForgotPassword(body.email, body.code, body.password);
});
