import { getDailyUsage as route } from '@platform/api/routes/billing/usage';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => {
  const { getDailyUsage } = await import('@platform/domain/usage/daily');
  return getDailyUsage(access.orgId, query);
});
