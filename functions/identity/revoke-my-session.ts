import { revokeMySession as route } from '@platform/api/routes/identity/me';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadSessions = lazy(() => import('@platform/domain/identity/sessions'));

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { revokeSession } = await loadSessions();
  return revokeSession(userOf(caller).userId, params.sessionId);
});
