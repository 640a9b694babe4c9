import { createOrg as route } from '@platform/api/routes/identity/orgs';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadOrganizations = lazy(() => import('@platform/domain/identity/organizations'));

export const handler = httpHandler(route, async ({ caller, body }) => {
  const { createOrganization } = await loadOrganizations();
  return {
    ...(await createOrganization(userOf(caller), body)),
    role: 'owner',
  };
});
