import { retireModel as route } from '@platform/api/routes/hub/models';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { retireCatalogueModel } = await import('@platform/domain/hub/models');
  const { platformOwner } = await import('@platform/domain/hub/owners');
  return retireCatalogueModel(platformOwner(userOf(caller)), params.modelId);
});
