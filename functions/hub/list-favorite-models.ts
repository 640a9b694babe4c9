import { listFavoriteModels as route } from '@platform/api/routes/hub/models';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadFavorites = lazy(() => import('@platform/domain/hub/favorites'));

export const handler = httpHandler(route, async ({ caller, query }) => {
  const { listFavorites } = await loadFavorites();
  return listFavorites(userOf(caller), query);
});
