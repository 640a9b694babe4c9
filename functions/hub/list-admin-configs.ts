import { listAdminConfigs as route } from '@platform/api/routes/hub/admin';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async () => {
  const { listConfigs } = await import('@platform/domain/hub/admin-config');
  return { items: await listConfigs() };
});
