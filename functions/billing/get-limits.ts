import { getLimits as route } from '@platform/api/routes/billing/limits';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadLimits = lazy(() => import('@platform/domain/billing/limits'));

export const handler = httpHandler(route, async ({ access }) => {
  const { limitsWithUsage } = await loadLimits();
  return { items: await limitsWithUsage(access.org) };
});
