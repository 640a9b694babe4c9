import { revokeApiClient as route } from '@platform/api/routes/identity/api-clients';
import { revokeApiClient } from '@platform/domain/identity/api-clients';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => revokeApiClient(access, params.clientId));
