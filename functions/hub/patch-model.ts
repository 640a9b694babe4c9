import { patchModel as route } from '@platform/api/routes/hub/models';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, body }) => {
  const { patchCatalogueModel } = await import('@platform/domain/hub/models');
  const { platformOwner } = await import('@platform/domain/hub/owners');
  return patchCatalogueModel(platformOwner(userOf(caller)), params.modelId, body);
});
