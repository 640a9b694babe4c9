import { getDailyUsage as route } from '@platform/api/routes/billing/usage';
import { getDailyUsage } from '@platform/domain/usage/daily';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => getDailyUsage(access.orgId, query));
