import { listProviders as route } from '@platform/api/routes/hub/providers';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadProviders = lazy(() => import('@platform/domain/hub/providers'));

export const handler = httpHandler(route, async ({ query }) => {
  const { listProviders } = await loadProviders();
  return { items: await listProviders(query) };
});
