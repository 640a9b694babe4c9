import { mfaDisable as route } from '@platform/api/routes/identity/auth';
import { bearerToken } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadAuth = lazy(() => import('@platform/domain/identity/auth'));

export const handler = httpHandler(route, async ({ event }) => {
  const { setMfa } = await loadAuth();
  return setMfa(bearerToken(event), undefined);
});
