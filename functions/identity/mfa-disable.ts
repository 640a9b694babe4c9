import { mfaDisable as route } from '@platform/api/routes/identity/auth';
import { bearerToken } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ event }) => {
  const { setMfa } = await import('@platform/domain/identity/auth');
  return setMfa(bearerToken(event), undefined);
});
