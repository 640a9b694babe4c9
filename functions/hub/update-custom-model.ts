import { updateCustomModel as route } from '@platform/api/routes/hub/models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params, body }) => {
  const { patchCustomModel } = await import('@platform/domain/hub/custom-models');
  return patchCustomModel(access, params.modelId, body);
});
