import { deletePlatformProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { deleteCredential } = await import('@platform/domain/hub/credentials');
  const { platformOwner } = await import('@platform/domain/hub/owners');
  return deleteCredential(platformOwner(userOf(caller)), params.credentialId);
});
