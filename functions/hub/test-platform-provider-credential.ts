import { testPlatformProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { testCredential } from '@platform/domain/hub/credential-tests';
import { platformOwner } from '@platform/domain/hub/owners';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, body }) =>
  testCredential(platformOwner(userOf(caller)), params.credentialId, body),
);
