import { addFavoriteModel as route } from '@platform/api/routes/hub/models';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, query }) => {
  const { authorizeOrg } = await import('@platform/domain/identity/access');
  const { addFavorite } = await import('@platform/domain/hub/favorites');
  return addFavorite(
    userOf(caller),
    params.modelId,
    query.orgId ? await authorizeOrg(caller, query.orgId, 'models:read') : undefined,
  );
});
