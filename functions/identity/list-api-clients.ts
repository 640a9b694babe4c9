import { listApiClients as route } from '@platform/api/routes/identity/api-clients';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadApiClients = lazy(() => import('@platform/domain/identity/api-clients'));

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listApiClients } = await loadApiClients();
  return listApiClients(access, query);
});
