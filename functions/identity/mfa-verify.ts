import { mfaVerify as route } from '@platform/api/routes/identity/auth';
import { setMfa } from '@platform/domain/identity/auth';
import { bearerToken } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body, event }) => setMfa(bearerToken(event), body.code));
