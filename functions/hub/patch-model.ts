import { patchModel as route } from '@platform/api/routes/hub/models';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadModels = lazy(() => import('@platform/domain/hub/models'));
const loadOwners = lazy(() => import('@platform/domain/hub/owners'));

export const handler = httpHandler(route, async ({ caller, params, body }) => {
  const { patchCatalogueModel } = await loadModels();
  const { platformOwner } = await loadOwners();
  return patchCatalogueModel(platformOwner(userOf(caller)), params.modelId, body);
});
