import { updateOrg as route } from '@platform/api/routes/identity/orgs';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => {
  const { updateOrganization } = await import('@platform/domain/identity/organizations');
  return {
    ...(await updateOrganization(access, body)),
    role: access.role,
  };
});
