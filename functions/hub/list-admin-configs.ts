import { listAdminConfigs as route } from '@platform/api/routes/hub/admin';
import { listConfigs } from '@platform/domain/hub/admin-config';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async () => ({ items: await listConfigs() }));
