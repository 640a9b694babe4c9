import { listInvitations as route } from '@platform/api/routes/identity/invitations';
import { listInvitations } from '@platform/domain/identity/invitations';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => listInvitations(access, query));
