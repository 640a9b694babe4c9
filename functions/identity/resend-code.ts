import { resendCode as route } from '@platform/api/routes/identity/auth';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body }) => {
  const { identityProvider } = await import('@platform/domain/identity/cognito');
  await identityProvider.resendConfirmation(body.email).catch((error: unknown) => {
    if ((error as { status?: number }).status !== 401) throw error; // unknown account: same answer
  });
  return { status: 'accepted' as const };
});
