import { getOrg as route } from '@platform/api/routes/identity/orgs';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => ({ ...access.org, role: access.role }));
