import { savePlan as route } from '@platform/api/routes/billing/plans';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, body }) => {
  const { savePlan } = await import('@platform/domain/billing/plans');
  return savePlan(params.planId, body, userOf(caller).userId);
});
