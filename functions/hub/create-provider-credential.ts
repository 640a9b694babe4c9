import { createProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => {
  const { createCredential } = await import('@platform/domain/hub/credentials');
  const { orgOwner } = await import('@platform/domain/hub/owners');
  return createCredential(orgOwner(access), body);
});
