import { updateOrg as route } from '@platform/api/routes/identity/orgs';
import { updateOrganization } from '@platform/domain/identity/organizations';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => ({
  ...(await updateOrganization(access, body)),
  role: access.role,
}));
