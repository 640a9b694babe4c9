import { saveModel as route } from '@platform/api/routes/hub/models';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, body }) => {
  const { saveCatalogueModel } = await import('@platform/domain/hub/models');
  const { platformOwner } = await import('@platform/domain/hub/owners');
  return saveCatalogueModel(platformOwner(userOf(caller)), params.modelId, body);
});
