import { savePlan as route } from '@platform/api/routes/billing/plans';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadPlans = lazy(() => import('@platform/domain/billing/plans'));

export const handler = httpHandler(route, async ({ caller, params, body }) => {
  const { savePlan } = await loadPlans();
  return savePlan(params.planId, body, userOf(caller).userId);
});
