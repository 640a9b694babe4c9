import { leaveOrg as route } from '@platform/api/routes/identity/me';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => {
  const { removeMember } = await import('@platform/domain/identity/members');
  return removeMember(access, access.actorId, 'member.left');
});
