import { revokeInvitation as route } from '@platform/api/routes/identity/invitations';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadInvitations = lazy(() => import('@platform/domain/identity/invitations'));

export const handler = httpHandler(route, async ({ access, params }) => {
  const { revokeInvitation } = await loadInvitations();
  return revokeInvitation(access, params.invitationId);
});
