import { deleteCustomModel as route } from '@platform/api/routes/hub/models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => {
  const { deleteCustomModel } = await import('@platform/domain/hub/custom-models');
  return deleteCustomModel(access, params.modelId);
});
