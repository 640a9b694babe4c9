import { listApiClients as route } from '@platform/api/routes/identity/api-clients';
import { listApiClients } from '@platform/domain/identity/api-clients';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => listApiClients(access, query));
