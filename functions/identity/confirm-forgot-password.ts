import { confirmForgotPassword as route } from '@platform/api/routes/identity/auth';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body }) => {
  const { identityProvider } = await import('@platform/domain/identity/cognito');
  await identityProvider.confirmForgotPassword(body.email, body.code, body.password);
});
