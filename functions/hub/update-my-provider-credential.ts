import { updateMyProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { patchCredential } from '@platform/domain/hub/credentials';
import { userOwner } from '@platform/domain/hub/owners';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, body }) =>
  patchCredential(userOwner(userOf(caller)), params.credentialId, body),
);
