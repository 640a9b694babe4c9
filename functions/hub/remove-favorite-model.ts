import { removeFavoriteModel as route } from '@platform/api/routes/hub/models';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { removeFavorite } = await import('@platform/domain/hub/favorites');
  return removeFavorite(userOf(caller), params.modelId);
});
