import { acceptInvitation as route } from '@platform/api/routes/identity/invitations';
import { acceptInvitation } from '@platform/domain/identity/invitations';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => acceptInvitation(userOf(caller), params.invitationId));
