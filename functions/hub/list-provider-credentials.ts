import { listProviderCredentials as route } from '@platform/api/routes/hub/credentials';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listCredentials } = await import('@platform/domain/hub/credentials');
  const { orgOwner } = await import('@platform/domain/hub/owners');
  return listCredentials(orgOwner(access), query);
});
