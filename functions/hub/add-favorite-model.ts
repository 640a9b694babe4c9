import { addFavoriteModel as route } from '@platform/api/routes/hub/models';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadAccess = lazy(() => import('@platform/domain/identity/access'));
const loadFavorites = lazy(() => import('@platform/domain/hub/favorites'));

export const handler = httpHandler(route, async ({ caller, params, query }) => {
  const { authorizeOrg } = await loadAccess();
  const { addFavorite } = await loadFavorites();
  return addFavorite(
    userOf(caller),
    params.modelId,
    query.orgId ? await authorizeOrg(caller, query.orgId, 'models:read') : undefined,
  );
});
