import { retireProvider as route } from '@platform/api/routes/hub/providers';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadOwners = lazy(() => import('@platform/domain/hub/owners'));
const loadProviders = lazy(() => import('@platform/domain/hub/providers'));

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { platformOwner } = await loadOwners();
  const { retireProvider } = await loadProviders();
  return retireProvider(platformOwner(userOf(caller)), params.slug);
});
