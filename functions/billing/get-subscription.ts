import { getSubscription as route } from '@platform/api/routes/billing/plans';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => {
  const { getSubscription, subscriptionView } = await import('@platform/domain/billing/subscriptions');
  return subscriptionView(await getSubscription(access.orgId));
});
