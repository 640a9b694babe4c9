import { createOrg as route } from '@platform/api/routes/identity/orgs';
import { createOrganization } from '@platform/domain/identity/organizations';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, body }) => ({
  ...(await createOrganization(userOf(caller), body)),
  role: 'owner',
}));
