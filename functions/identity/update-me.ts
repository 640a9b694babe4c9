import { updateMe as route } from '@platform/api/routes/identity/me';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, body }) => {
  const { updateProfile } = await import('@platform/domain/identity/users');
  return updateProfile(userOf(caller).userId, body);
});
