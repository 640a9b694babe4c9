import { getCustomModel as route } from '@platform/api/routes/hub/models';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadCustomModels = lazy(() => import('@platform/domain/hub/custom-models'));

export const handler = httpHandler(route, async ({ access, params }) => {
  const { getCustomModel } = await loadCustomModels();
  return getCustomModel(access, params.modelId);
});
