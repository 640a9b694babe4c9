import { listModels as route } from '@platform/api/routes/hub/models';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadAccess = lazy(() => import('@platform/domain/identity/access'));
const loadModels = lazy(() => import('@platform/domain/hub/models'));

export const handler = httpHandler(route, async ({ caller, query }) => {
  const { authorizeOrg } = await loadAccess();
  const { listModels } = await loadModels();
  const { orgId, ...filters } = query;
  const access = orgId ? await authorizeOrg(caller, orgId, 'models:read') : undefined;
  return { items: await listModels(filters, access) };
});
