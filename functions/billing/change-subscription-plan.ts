import { changeSubscriptionPlan as route } from '@platform/api/routes/billing/subscription';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => {
  const { changePlan, subscriptionView } = await import('@platform/domain/billing/subscriptions');
  return subscriptionView(await changePlan(access, body.planId));
});
