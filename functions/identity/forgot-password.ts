import { forgotPassword as route } from '@platform/api/routes/identity/auth';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadAuth = lazy(() => import('@platform/domain/identity/auth'));

export const handler = httpHandler(route, async ({ body }) => {
  const { requestPasswordReset } = await loadAuth();
  await requestPasswordReset(body.email);
  return { status: 'accepted' as const };
});
