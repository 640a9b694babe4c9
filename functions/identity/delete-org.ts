import { deleteOrg as route } from '@platform/api/routes/identity/orgs';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadOrganizations = lazy(() => import('@platform/domain/identity/organizations'));

export const handler = httpHandler(route, async ({ access }) => {
  const { deleteOrganization } = await loadOrganizations();
  return deleteOrganization(access);
});
