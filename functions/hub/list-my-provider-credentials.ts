import { listMyProviderCredentials as route } from '@platform/api/routes/hub/credentials';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadCredentials = lazy(() => import('@platform/domain/hub/credentials'));
const loadOwners = lazy(() => import('@platform/domain/hub/owners'));

export const handler = httpHandler(route, async ({ caller, query }) => {
  const { listCredentials } = await loadCredentials();
  const { userOwner } = await loadOwners();
  return listCredentials(userOwner(userOf(caller)), query);
});
