import { listMyProviderCredentials as route } from '@platform/api/routes/hub/credentials';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, query }) => {
  const { listCredentials } = await import('@platform/domain/hub/credentials');
  const { userOwner } = await import('@platform/domain/hub/owners');
  return listCredentials(userOwner(userOf(caller)), query);
});
