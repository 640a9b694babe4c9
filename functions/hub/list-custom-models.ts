import { listCustomModels as route } from '@platform/api/routes/hub/models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listCustomModels } = await import('@platform/domain/hub/custom-models');
  return listCustomModels(access, query);
});
