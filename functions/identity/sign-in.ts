import { signIn as route } from '@platform/api/routes/identity/auth';
import { deviceOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body, event }) => {
  const { signIn } = await import('@platform/domain/identity/auth');
  return signIn(body.email, body.password, deviceOf(event));
});
