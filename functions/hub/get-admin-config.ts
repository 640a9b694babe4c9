import { getAdminConfig as route } from '@platform/api/routes/hub/admin';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ params }) => {
  const { getConfig } = await import('@platform/domain/hub/admin-config');
  return getConfig(params.configKey);
});
