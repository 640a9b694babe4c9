import { signIn as route } from '@platform/api/routes/identity/auth';
import { signIn } from '@platform/domain/identity/auth';
import { deviceOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body, event }) => signIn(body.email, body.password, deviceOf(event)));
