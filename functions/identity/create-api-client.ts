import { createApiClient as route } from '@platform/api/routes/identity/api-clients';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => {
  const { createApiClient } = await import('@platform/domain/identity/api-clients');
  return createApiClient(access, body);
});
