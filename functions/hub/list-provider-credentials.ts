import { listProviderCredentials as route } from '@platform/api/routes/hub/credentials';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadCredentials = lazy(() => import('@platform/domain/hub/credentials'));
const loadOwners = lazy(() => import('@platform/domain/hub/owners'));

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listCredentials } = await loadCredentials();
  const { orgOwner } = await loadOwners();
  return listCredentials(orgOwner(access), query);
});
