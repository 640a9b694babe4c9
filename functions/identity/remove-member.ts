import { removeMember as route } from '@platform/api/routes/identity/members';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => {
  const { removeMember } = await import('@platform/domain/identity/members');
  return removeMember(access, params.userId, params.userId === access.actorId ? 'member.left' : 'member.removed');
});
