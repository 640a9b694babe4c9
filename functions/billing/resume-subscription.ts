import { resumeSubscription as route } from '@platform/api/routes/billing/subscription';
import { resume, subscriptionRead, subscriptionView } from '@platform/domain/billing/subscriptions';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(
  route,
  async ({ access }) => subscriptionView(await resume(access)),
  // Read with the authorization, in its one request: the change then claims, and commits.
  { preload: ({ params }) => [subscriptionRead(params.orgId)] },
);
