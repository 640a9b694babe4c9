import { createCustomModel as route } from '@platform/api/routes/hub/models';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadCustomModels = lazy(() => import('@platform/domain/hub/custom-models'));

export const handler = httpHandler(route, async ({ access, body }) => {
  const { createCustomModel } = await loadCustomModels();
  return createCustomModel(access, body);
});
