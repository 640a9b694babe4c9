import { listFavoriteModels as route } from '@platform/api/routes/hub/models';
import { listFavorites } from '@platform/domain/hub/favorites';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, query }) => listFavorites(userOf(caller), query));
