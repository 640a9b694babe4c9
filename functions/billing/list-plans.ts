import { listPlans as route } from '@platform/api/routes/billing/plans';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadPlans = lazy(() => import('@platform/domain/billing/plans'));

export const handler = httpHandler(route, async () => {
  const { listPlans } = await loadPlans();
  return { items: await listPlans() };
});
