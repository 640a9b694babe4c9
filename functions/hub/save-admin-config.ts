import { saveAdminConfig as route } from '@platform/api/routes/hub/admin';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, body }) => {
  const { saveConfig } = await import('@platform/domain/hub/admin-config');
  const { platformOwner } = await import('@platform/domain/hub/owners');
  return saveConfig(platformOwner(userOf(caller)), params.configKey, body);
});
