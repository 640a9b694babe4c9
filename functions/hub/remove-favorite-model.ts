import { removeFavoriteModel as route } from '@platform/api/routes/hub/models';
import { removeFavorite } from '@platform/domain/hub/favorites';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => removeFavorite(userOf(caller), params.modelId));
