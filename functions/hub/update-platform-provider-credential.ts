import { updatePlatformProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadCredentials = lazy(() => import('@platform/domain/hub/credentials'));
const loadOwners = lazy(() => import('@platform/domain/hub/owners'));

export const handler = httpHandler(route, async ({ caller, params, body }) => {
  const { patchCredential } = await loadCredentials();
  const { platformOwner } = await loadOwners();
  return patchCredential(platformOwner(userOf(caller)), params.credentialId, body);
});
