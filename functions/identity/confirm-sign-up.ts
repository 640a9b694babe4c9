import { confirmSignUp as route } from '@platform/api/routes/identity/auth';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadCognito = lazy(() => import('@platform/domain/identity/cognito'));

/** Cognito's post-confirmation trigger creates the profile and personal organization. */
export const handler = httpHandler(route, async ({ body }) => {
  const { identityProvider } = await loadCognito();
  await identityProvider.confirmSignUp(body.email, body.code);
  return { confirmed: true as const };
});
