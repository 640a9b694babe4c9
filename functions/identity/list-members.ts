import { listMembers as route } from '@platform/api/routes/identity/members';
import { listMembers } from '@platform/domain/identity/members';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => listMembers(access, query));
