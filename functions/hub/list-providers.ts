import { listProviders as route } from '@platform/api/routes/hub/providers';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ query }) => {
  const { listProviders } = await import('@platform/domain/hub/providers');
  return { items: await listProviders(query) };
});
