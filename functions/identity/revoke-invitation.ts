import { revokeInvitation as route } from '@platform/api/routes/identity/invitations';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => {
  const { revokeInvitation } = await import('@platform/domain/identity/invitations');
  return revokeInvitation(access, params.invitationId);
});
