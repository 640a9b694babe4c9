import { getModel as route } from '@platform/api/routes/hub/models';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadAccess = lazy(() => import('@platform/domain/identity/access'));
const loadModels = lazy(() => import('@platform/domain/hub/models'));

export const handler = httpHandler(route, async ({ caller, params, query }) => {
  const { authorizeOrg } = await loadAccess();
  const { getModel } = await loadModels();
  return getModel(params.modelId, query.orgId ? await authorizeOrg(caller, query.orgId, 'models:read') : undefined);
});
