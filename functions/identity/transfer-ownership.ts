import { transferOwnership as route } from '@platform/api/routes/identity/members';
import { transferOwnership } from '@platform/domain/identity/members';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => transferOwnership(access, body.userId));
