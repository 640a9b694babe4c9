import { revokeMySession as route } from '@platform/api/routes/identity/me';
import { revokeSession } from '@platform/domain/identity/sessions';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => revokeSession(userOf(caller).userId, params.sessionId));
