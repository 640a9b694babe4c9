import { confirmForgotPassword as route } from '@platform/api/routes/identity/auth';
import { identityProvider } from '@platform/domain/identity/cognito';
import { signOutEverywhereAfterReset } from '@platform/domain/identity/sessions';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body }) => {
  await identityProvider.confirmForgotPassword(body.email, body.code, body.password);
  await signOutEverywhereAfterReset(body.email);
});
