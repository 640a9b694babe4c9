import { declineInvitation as route } from '@platform/api/routes/identity/invitations';
import { declineInvitation } from '@platform/domain/identity/invitations';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => declineInvitation(userOf(caller), params.invitationId));
