import { listInvitations as route } from '@platform/api/routes/identity/invitations';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listInvitations } = await import('@platform/domain/identity/invitations');
  return listInvitations(access, query);
});
