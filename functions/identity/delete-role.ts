import { deleteRole as route } from '@platform/api/routes/identity/roles';
import { deleteRole } from '@platform/domain/identity/roles';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => deleteRole(access, params.roleId));
