import { revokeApiClient as route } from '@platform/api/routes/identity/api-clients';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadApiClients = lazy(() => import('@platform/domain/identity/api-clients'));

export const handler = httpHandler(route, async ({ access, params }) => {
  const { revokeApiClient } = await loadApiClients();
  return revokeApiClient(access, params.clientId);
});
