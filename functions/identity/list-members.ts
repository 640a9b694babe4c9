import { listMembers as route } from '@platform/api/routes/identity/members';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listMembers } = await import('@platform/domain/identity/members');
  return listMembers(access, query);
});
