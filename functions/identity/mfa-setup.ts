import { mfaSetup as route } from '@platform/api/routes/identity/auth';
import { bearerToken, userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadAuth = lazy(() => import('@platform/domain/identity/auth'));
const loadUsers = lazy(() => import('@platform/domain/identity/users'));

export const handler = httpHandler(route, async ({ caller, event }) => {
  const { startMfaSetup } = await loadAuth();
  const { requireUser } = await loadUsers();
  const user = await requireUser(userOf(caller).userId);
  return startMfaSetup(bearerToken(event), user.email);
});
