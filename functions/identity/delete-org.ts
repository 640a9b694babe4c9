import { deleteOrg as route } from '@platform/api/routes/identity/orgs';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => {
  const { deleteOrganization } = await import('@platform/domain/identity/organizations');
  return deleteOrganization(access);
});
