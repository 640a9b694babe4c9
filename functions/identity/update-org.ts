import { updateOrg as route } from '@platform/api/routes/identity/orgs';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadOrganizations = lazy(() => import('@platform/domain/identity/organizations'));

export const handler = httpHandler(route, async ({ access, body }) => {
  const { updateOrganization } = await loadOrganizations();
  return {
    ...(await updateOrganization(access, body)),
    role: access.role,
  };
});
