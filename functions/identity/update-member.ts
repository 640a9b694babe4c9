import { updateMember as route } from '@platform/api/routes/identity/members';
import { updateMember } from '@platform/domain/identity/members';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params, body }) => updateMember(access, params.userId, body));
