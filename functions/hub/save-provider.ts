import { saveProvider as route } from '@platform/api/routes/hub/providers';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadOwners = lazy(() => import('@platform/domain/hub/owners'));
const loadProviders = lazy(() => import('@platform/domain/hub/providers'));

export const handler = httpHandler(route, async ({ caller, params, body }) => {
  const { platformOwner } = await loadOwners();
  const { saveProvider } = await loadProviders();
  return saveProvider(platformOwner(userOf(caller)), params.slug, body);
});
