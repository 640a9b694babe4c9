import { mfaSetup as route } from '@platform/api/routes/identity/auth';
import { startMfaSetup } from '@platform/domain/identity/auth';
import { requireUser } from '@platform/domain/identity/users';
import { bearerToken, userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, event }) => {
  const user = await requireUser(userOf(caller).userId);
  return startMfaSetup(bearerToken(event), user);
});
