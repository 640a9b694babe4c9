import { revokeInvitation as route } from '@platform/api/routes/identity/invitations';
import { revokeInvitation } from '@platform/domain/identity/invitations';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => revokeInvitation(access, params.invitationId));
