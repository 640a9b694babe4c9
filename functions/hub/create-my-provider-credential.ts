import { createMyProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, body }) => {
  const { createCredential } = await import('@platform/domain/hub/credentials');
  const { userOwner } = await import('@platform/domain/hub/owners');
  return createCredential(userOwner(userOf(caller)), body);
});
