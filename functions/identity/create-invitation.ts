import { createInvitation as route } from '@platform/api/routes/identity/invitations';
import { createInvitation } from '@platform/domain/identity/invitations';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => createInvitation(access, body));
