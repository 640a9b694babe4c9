import { listUsage as route } from '@platform/api/routes/billing/usage';
import { listUsage } from '@platform/domain/usage/logs';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => listUsage(access.orgId, query));
