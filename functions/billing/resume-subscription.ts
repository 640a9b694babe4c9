import { resumeSubscription as route } from '@platform/api/routes/billing/subscription';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadSubscriptions = lazy(() => import('@platform/domain/billing/subscriptions'));

export const handler = httpHandler(route, async ({ access }) => {
  const { resume, subscriptionView } = await loadSubscriptions();
  return subscriptionView(await resume(access));
});
