import { getCustomModel as route } from '@platform/api/routes/hub/models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => {
  const { getCustomModel } = await import('@platform/domain/hub/custom-models');
  return getCustomModel(access, params.modelId);
});
