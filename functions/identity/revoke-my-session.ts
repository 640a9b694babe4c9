import { revokeMySession as route } from '@platform/api/routes/identity/me';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { revokeSession } = await import('@platform/domain/identity/sessions');
  return revokeSession(userOf(caller).userId, params.sessionId);
});
