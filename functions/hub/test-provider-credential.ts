import { testProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { testCredential } from '@platform/domain/hub/credential-tests';
import { credentialReads } from '@platform/domain/hub/credentials';
import { orgKey, orgOwner } from '@platform/domain/hub/owners';
import { httpHandler } from '@platform/http/handler';

/** The credential, the organization's defaults and the catalogue are read with the authorization: one request. */
export const handler = httpHandler(
  route,
  async ({ access, params, body }) => testCredential(orgOwner(access), params.credentialId, body, access.preloaded),
  { preload: ({ params }) => credentialReads(orgKey(params.orgId), params.credentialId) },
);
