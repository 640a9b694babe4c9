import { updateMyProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, body }) => {
  const { patchCredential } = await import('@platform/domain/hub/credentials');
  const { userOwner } = await import('@platform/domain/hub/owners');
  return patchCredential(userOwner(userOf(caller)), params.credentialId, body);
});
