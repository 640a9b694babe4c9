import { removeMember as route } from '@platform/api/routes/identity/members';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadMembers = lazy(() => import('@platform/domain/identity/members'));

export const handler = httpHandler(route, async ({ access, params }) => {
  const { removeMember } = await loadMembers();
  return removeMember(access, params.userId, params.userId === access.actorId ? 'member.left' : 'member.removed');
});
