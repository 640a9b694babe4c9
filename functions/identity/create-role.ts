import { createRole as route } from '@platform/api/routes/identity/roles';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => {
  const { createRole } = await import('@platform/domain/identity/roles');
  return createRole(access, body);
});
