import { listAdminConfigs as route } from '@platform/api/routes/hub/admin';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadAdminConfig = lazy(() => import('@platform/domain/hub/admin-config'));

export const handler = httpHandler(route, async () => {
  const { listConfigs } = await loadAdminConfig();
  return { items: await listConfigs() };
});
