import { listInvitations as route } from '@platform/api/routes/identity/invitations';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadInvitations = lazy(() => import('@platform/domain/identity/invitations'));

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listInvitations } = await loadInvitations();
  return listInvitations(access, query);
});
