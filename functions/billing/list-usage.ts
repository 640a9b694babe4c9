import { listUsage as route } from '@platform/api/routes/billing/usage';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listUsage } = await import('@platform/domain/usage/logs');
  return listUsage(access.orgId, query);
});
