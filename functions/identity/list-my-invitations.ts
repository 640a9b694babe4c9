import { listMyInvitations as route } from '@platform/api/routes/identity/me';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller }) => {
  const { listMyInvitations } = await import('@platform/domain/identity/invitations');
  return listMyInvitations(userOf(caller));
});
