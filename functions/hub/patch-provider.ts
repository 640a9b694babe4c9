import { patchProvider as route } from '@platform/api/routes/hub/providers';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, body }) => {
  const { platformOwner } = await import('@platform/domain/hub/owners');
  const { patchProvider } = await import('@platform/domain/hub/providers');
  return patchProvider(platformOwner(userOf(caller)), params.slug, body);
});
