import { listMyInvitations as route } from '@platform/api/routes/identity/me';
import { listMyInvitations } from '@platform/domain/identity/invitations';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, query }) => listMyInvitations(userOf(caller), query));
