import { listRoles as route } from '@platform/api/routes/identity/roles';
import { listRoles } from '@platform/domain/identity/roles';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => ({ items: listRoles(access) }));
