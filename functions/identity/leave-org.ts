import { leaveOrg as route } from '@platform/api/routes/identity/me';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadMembers = lazy(() => import('@platform/domain/identity/members'));

export const handler = httpHandler(route, async ({ access }) => {
  const { removeMember } = await loadMembers();
  return removeMember(access, access.actorId, 'member.left');
});
