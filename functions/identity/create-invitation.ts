import { createInvitation as route } from '@platform/api/routes/identity/invitations';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => {
  const { createInvitation } = await import('@platform/domain/identity/invitations');
  return createInvitation(access, body);
});
