import { getAdminConfig as route } from '@platform/api/routes/hub/admin';
import { getConfig } from '@platform/domain/hub/admin-config';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ params }) => getConfig(params.configKey));
