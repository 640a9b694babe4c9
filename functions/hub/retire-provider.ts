import { retireProvider as route } from '@platform/api/routes/hub/providers';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { platformOwner } = await import('@platform/domain/hub/owners');
  const { retireProvider } = await import('@platform/domain/hub/providers');
  return retireProvider(platformOwner(userOf(caller)), params.slug);
});
