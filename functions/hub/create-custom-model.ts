import { createCustomModel as route } from '@platform/api/routes/hub/models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => {
  const { createCustomModel } = await import('@platform/domain/hub/custom-models');
  return createCustomModel(access, body);
});
