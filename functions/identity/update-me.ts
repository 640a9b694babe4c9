import { updateMe as route } from '@platform/api/routes/identity/me';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadUsers = lazy(() => import('@platform/domain/identity/users'));

export const handler = httpHandler(route, async ({ caller, body }) => {
  const { updateProfile } = await loadUsers();
  return updateProfile(userOf(caller).userId, body);
});
