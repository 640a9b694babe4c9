import { updateRole as route } from '@platform/api/routes/identity/roles';
import { updateRole } from '@platform/domain/identity/roles';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params, body }) => updateRole(access, params.roleId, body));
