import { createOrg as route } from '@platform/api/routes/identity/orgs';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, body }) => {
  const { createOrganization } = await import('@platform/domain/identity/organizations');
  return {
    ...(await createOrganization(userOf(caller), body)),
    role: 'owner',
  };
});
