import { createApiClient as route } from '@platform/api/routes/identity/api-clients';
import { createApiClient } from '@platform/domain/identity/api-clients';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => createApiClient(access, body));
