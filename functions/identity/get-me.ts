import { getMe as route } from '@platform/api/routes/identity/me';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller }) => {
  const { requireUser } = await import('@platform/domain/identity/users');
  return requireUser(userOf(caller).userId);
});
