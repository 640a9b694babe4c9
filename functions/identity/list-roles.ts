import { listRoles as route } from '@platform/api/routes/identity/roles';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => {
  const { listRoles } = await import('@platform/domain/identity/roles');
  return { items: listRoles(access) };
});
