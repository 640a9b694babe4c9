import { updateRole as route } from '@platform/api/routes/identity/roles';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params, body }) => {
  const { updateRole } = await import('@platform/domain/identity/roles');
  return updateRole(access, params.roleId, body);
});
