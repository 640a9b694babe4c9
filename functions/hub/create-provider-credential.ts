import { createProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { createCredential, creationRead, creationReads } from '@platform/domain/hub/credentials';
import { orgKey, orgOwner } from '@platform/domain/hub/owners';
import { httpHandler } from '@platform/http/handler';

/** The catalogue and the organization's defaults are read with the authorization: one request for both. */
export const handler = httpHandler(
  route,
  async ({ access, body }) => createCredential(orgOwner(access), body, creationRead(access.preloaded)),
  { preload: ({ params }) => creationReads(orgKey(params.orgId)) },
);
