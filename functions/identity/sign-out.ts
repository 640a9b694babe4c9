import { signOut as route } from '@platform/api/routes/identity/auth';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadSessions = lazy(() => import('@platform/domain/identity/sessions'));

export const handler = httpHandler(route, async ({ body }) => {
  const { signOut } = await loadSessions();
  return signOut(body.refreshToken);
});
