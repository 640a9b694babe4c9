import { retireModel as route } from '@platform/api/routes/hub/models';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadModels = lazy(() => import('@platform/domain/hub/models'));
const loadOwners = lazy(() => import('@platform/domain/hub/owners'));

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { retireCatalogueModel } = await loadModels();
  const { platformOwner } = await loadOwners();
  return retireCatalogueModel(platformOwner(userOf(caller)), params.modelId);
});
