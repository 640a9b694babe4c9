import { updateMember as route } from '@platform/api/routes/identity/members';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params, body }) => {
  const { updateMember } = await import('@platform/domain/identity/members');
  return updateMember(access, params.userId, body);
});
