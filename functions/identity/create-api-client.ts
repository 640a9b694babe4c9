import { createApiClient as route } from '@platform/api/routes/identity/api-clients';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadApiClients = lazy(() => import('@platform/domain/identity/api-clients'));

export const handler = httpHandler(route, async ({ access, body }) => {
  const { createApiClient } = await loadApiClients();
  return createApiClient(access, body);
});
