import { getPlatformProviderCredential as route } from '@platform/api/routes/hub/credentials';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadCredentials = lazy(() => import('@platform/domain/hub/credentials'));
const loadOwners = lazy(() => import('@platform/domain/hub/owners'));

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { getCredential } = await loadCredentials();
  const { platformOwner } = await loadOwners();
  return getCredential(platformOwner(userOf(caller)), params.credentialId);
});
