import { listMyOrgs as route } from '@platform/api/routes/identity/me';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

/** Serves both GET /v1/me/orgs and GET /v1/orgs: the same question. */
export const handler = httpHandler(route, async ({ caller, query }) => {
  const { listMyOrganizations } = await import('@platform/domain/identity/organizations');
  return listMyOrganizations(userOf(caller).userId, query);
});
