import { transferOwnership as route } from '@platform/api/routes/identity/members';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => {
  const { transferOwnership } = await import('@platform/domain/identity/members');
  return transferOwnership(access, body.userId);
});
