import { acceptInvitation as route } from '@platform/api/routes/identity/invitations';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadInvitations = lazy(() => import('@platform/domain/identity/invitations'));

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { acceptInvitation } = await loadInvitations();
  return acceptInvitation(userOf(caller), params.invitationId);
});
