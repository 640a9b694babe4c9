import { getSubscription as route } from '@platform/api/routes/billing/plans';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadSubscriptions = lazy(() => import('@platform/domain/billing/subscriptions'));

export const handler = httpHandler(route, async ({ access }) => {
  const { getSubscription, subscriptionView } = await loadSubscriptions();
  return subscriptionView(await getSubscription(access.orgId));
});
