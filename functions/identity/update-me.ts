import { updateMe as route } from '@platform/api/routes/identity/me';
import { updateProfile } from '@platform/domain/identity/users';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, body }) => updateProfile(userOf(caller).userId, body));
