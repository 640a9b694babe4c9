import { updateRole as route } from '@platform/api/routes/identity/roles';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadRoles = lazy(() => import('@platform/domain/identity/roles'));

export const handler = httpHandler(route, async ({ access, params, body }) => {
  const { updateRole } = await loadRoles();
  return updateRole(access, params.roleId, body);
});
