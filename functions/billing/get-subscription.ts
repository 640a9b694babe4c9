import { getSubscription as route } from '@platform/api/routes/billing/plans';
import { getSubscription } from '@platform/domain/billing/subscriptions';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => getSubscription(access.orgId));
