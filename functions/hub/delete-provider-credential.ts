import { deleteProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { deleteCredential } from '@platform/domain/hub/credentials';
import { orgOwner } from '@platform/domain/hub/owners';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => deleteCredential(orgOwner(access), params.credentialId));
