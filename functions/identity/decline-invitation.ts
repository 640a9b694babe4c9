import { declineInvitation as route } from '@platform/api/routes/identity/invitations';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { declineInvitation } = await import('@platform/domain/identity/invitations');
  return declineInvitation(userOf(caller), params.invitationId);
});
