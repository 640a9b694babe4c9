import { changeSubscriptionPlan as route } from '@platform/api/routes/billing/subscription';
import { changePlan, subscriptionRead, subscriptionView } from '@platform/domain/billing/subscriptions';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(
  route,
  async ({ access, body }) => subscriptionView(await changePlan(access, body.planId)),
  // Read with the authorization, in its one request: the change then claims, and commits.
  { preload: ({ params }) => [subscriptionRead(params.orgId)] },
);
