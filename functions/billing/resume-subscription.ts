import { resumeSubscription as route } from '@platform/api/routes/billing/subscription';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => {
  const { resume, subscriptionView } = await import('@platform/domain/billing/subscriptions');
  return subscriptionView(await resume(access));
});
