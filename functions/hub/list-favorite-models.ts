import { listFavoriteModels as route } from '@platform/api/routes/hub/models';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, query }) => {
  const { listFavorites } = await import('@platform/domain/hub/favorites');
  return listFavorites(userOf(caller), query);
});
