import { listUsage as route } from '@platform/api/routes/billing/usage';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadLogs = lazy(() => import('@platform/domain/usage/logs'));

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listUsage } = await loadLogs();
  return listUsage(access.orgId, query);
});
