import { deleteOrg as route } from '@platform/api/routes/identity/orgs';
import { deleteOrganization } from '@platform/domain/identity/organizations';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => deleteOrganization(access));
