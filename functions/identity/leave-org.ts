import { leaveOrg as route } from '@platform/api/routes/identity/me';
import { removeMember } from '@platform/domain/identity/members';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => removeMember(access, access.actorId, 'member.left'));
