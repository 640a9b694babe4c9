import { addFavoriteModel as route } from '@platform/api/routes/hub/models';
import { authorizeOrg } from '@platform/domain/identity/access';
import { addFavorite } from '@platform/domain/hub/favorites';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, query }) =>
  addFavorite(userOf(caller), params.modelId, query.orgId ? await authorizeOrg(caller, query.orgId, 'models:read') : undefined),
);
