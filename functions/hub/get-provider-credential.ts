import { getProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => {
  const { getCredential } = await import('@platform/domain/hub/credentials');
  const { orgOwner } = await import('@platform/domain/hub/owners');
  return getCredential(orgOwner(access), params.credentialId);
});
