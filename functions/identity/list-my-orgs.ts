import { listMyOrgs as route } from '@platform/api/routes/identity/me';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadOrganizations = lazy(() => import('@platform/domain/identity/organizations'));

/** Serves both GET /v1/me/orgs and GET /v1/orgs: the same question. */
export const handler = httpHandler(route, async ({ caller, query }) => {
  const { listMyOrganizations } = await loadOrganizations();
  return listMyOrganizations(userOf(caller).userId, query);
});
