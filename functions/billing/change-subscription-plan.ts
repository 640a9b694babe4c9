import { changeSubscriptionPlan as route } from '@platform/api/routes/billing/subscription';
import { changePlan, subscriptionView } from '@platform/domain/billing/subscriptions';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => subscriptionView(await changePlan(access, body.planId)));
