import { saveAdminConfig as route } from '@platform/api/routes/hub/admin';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadAdminConfig = lazy(() => import('@platform/domain/hub/admin-config'));
const loadOwners = lazy(() => import('@platform/domain/hub/owners'));

export const handler = httpHandler(route, async ({ caller, params, body }) => {
  const { saveConfig } = await loadAdminConfig();
  const { platformOwner } = await loadOwners();
  return saveConfig(platformOwner(userOf(caller)), params.configKey, body);
});
