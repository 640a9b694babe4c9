import { createRole as route } from '@platform/api/routes/identity/roles';
import { createRole } from '@platform/domain/identity/roles';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => createRole(access, body));
