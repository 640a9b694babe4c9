import { revokeApiClient as route } from '@platform/api/routes/identity/api-clients';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => {
  const { revokeApiClient } = await import('@platform/domain/identity/api-clients');
  return revokeApiClient(access, params.clientId);
});
