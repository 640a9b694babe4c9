import { updateProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params, body }) => {
  const { patchCredential } = await import('@platform/domain/hub/credentials');
  const { orgOwner } = await import('@platform/domain/hub/owners');
  return patchCredential(orgOwner(access), params.credentialId, body);
});
