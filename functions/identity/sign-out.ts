import { signOut as route } from '@platform/api/routes/identity/auth';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body }) => {
  const { signOut } = await import('@platform/domain/identity/sessions');
  return signOut(body.refreshToken);
});
