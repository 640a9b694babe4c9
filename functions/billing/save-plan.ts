import { savePlan as route } from '@platform/api/routes/billing/plans';
import { forgetPlanCatalogue } from '@platform/domain/billing/limits';
import { savePlan } from '@platform/domain/billing/plans';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

/** The edit applies at once to the limits this process checks; other functions read it within their minute's cache. */
export const handler = httpHandler(route, async ({ caller, params, body }) => {
  const plan = await savePlan(params.planId, body, userOf(caller).userId);
  forgetPlanCatalogue();
  return plan;
});
