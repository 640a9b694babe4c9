import { saveAdminConfig as route } from '@platform/api/routes/hub/admin';
import { saveConfig } from '@platform/domain/hub/admin-config';
import { platformOwner } from '@platform/domain/hub/owners';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, body }) =>
  saveConfig(platformOwner(userOf(caller)), params.configKey, body),
);
