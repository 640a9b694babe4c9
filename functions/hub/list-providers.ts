import { listProviders as route } from '@platform/api/routes/hub/providers';
import { listProviders } from '@platform/domain/hub/providers';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ query }) => ({ items: await listProviders(query) }));
