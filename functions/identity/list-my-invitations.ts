import { listMyInvitations as route } from '@platform/api/routes/identity/me';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadInvitations = lazy(() => import('@platform/domain/identity/invitations'));

export const handler = httpHandler(route, async ({ caller }) => {
  const { listMyInvitations } = await loadInvitations();
  return listMyInvitations(userOf(caller));
});
