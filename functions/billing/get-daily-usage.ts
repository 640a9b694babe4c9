import { getDailyUsage as route } from '@platform/api/routes/billing/usage';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadDaily = lazy(() => import('@platform/domain/usage/daily'));

export const handler = httpHandler(route, async ({ access, query }) => {
  const { getDailyUsage } = await loadDaily();
  return getDailyUsage(access.orgId, query);
});
