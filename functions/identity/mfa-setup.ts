import { mfaSetup as route } from '@platform/api/routes/identity/auth';
import { bearerToken, userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, event }) => {
  const { startMfaSetup } = await import('@platform/domain/identity/auth');
  const { requireUser } = await import('@platform/domain/identity/users');
  const user = await requireUser(userOf(caller).userId);
  return startMfaSetup(bearerToken(event), user.email);
});
