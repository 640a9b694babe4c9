import { removeMember as route } from '@platform/api/routes/identity/members';
import { removeMember } from '@platform/domain/identity/members';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) =>
  removeMember(access, params.userId, params.userId === access.actorId ? 'member.left' : 'member.removed'),
);
