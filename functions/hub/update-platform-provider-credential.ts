import { updatePlatformProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, body }) => {
  const { patchCredential } = await import('@platform/domain/hub/credentials');
  const { platformOwner } = await import('@platform/domain/hub/owners');
  return patchCredential(platformOwner(userOf(caller)), params.credentialId, body);
});
