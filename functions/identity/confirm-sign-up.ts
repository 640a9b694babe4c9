import { confirmSignUp as route } from '@platform/api/routes/identity/auth';
import { httpHandler } from '@platform/http/handler';

/** Cognito's post-confirmation trigger creates the profile and personal organization. */
export const handler = httpHandler(route, async ({ body }) => {
  const { identityProvider } = await import('@platform/domain/identity/cognito');
  await identityProvider.confirmSignUp(body.email, body.code);
  return { confirmed: true as const };
});
