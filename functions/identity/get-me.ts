import { getMe as route } from '@platform/api/routes/identity/me';
import { getProfile } from '@platform/domain/identity/users';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller }) => getProfile(userOf(caller).userId));
