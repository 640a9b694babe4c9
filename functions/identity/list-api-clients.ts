import { listApiClients as route } from '@platform/api/routes/identity/api-clients';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listApiClients } = await import('@platform/domain/identity/api-clients');
  return listApiClients(access, query);
});
