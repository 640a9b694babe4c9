import { getSubscription as route } from '@platform/api/routes/billing/plans';
import { getSubscription, subscriptionView } from '@platform/domain/billing/subscriptions';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => subscriptionView(await getSubscription(access.orgId)));
