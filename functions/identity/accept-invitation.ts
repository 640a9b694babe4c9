import { acceptInvitation as route } from '@platform/api/routes/identity/invitations';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { acceptInvitation } = await import('@platform/domain/identity/invitations');
  return acceptInvitation(userOf(caller), params.invitationId);
});
