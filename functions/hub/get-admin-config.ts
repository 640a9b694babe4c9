import { getAdminConfig as route } from '@platform/api/routes/hub/admin';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadAdminConfig = lazy(() => import('@platform/domain/hub/admin-config'));

export const handler = httpHandler(route, async ({ params }) => {
  const { getConfig } = await loadAdminConfig();
  return getConfig(params.configKey);
});
