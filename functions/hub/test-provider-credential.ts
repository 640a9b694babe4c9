import { testProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { testCredential } from '@platform/domain/hub/credential-tests';
import { orgOwner } from '@platform/domain/hub/owners';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params, body }) =>
  testCredential(orgOwner(access), params.credentialId, body),
);
