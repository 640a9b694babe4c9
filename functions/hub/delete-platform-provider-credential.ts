import { deletePlatformProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { deleteCredential } from '@platform/domain/hub/credentials';
import { platformOwner } from '@platform/domain/hub/owners';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) =>
  deleteCredential(platformOwner(userOf(caller)), params.credentialId),
);
