import { deleteRole as route } from '@platform/api/routes/identity/roles';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => {
  const { deleteRole } = await import('@platform/domain/identity/roles');
  return deleteRole(access, params.roleId);
});
