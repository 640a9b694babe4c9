import { resumeSubscription as route } from '@platform/api/routes/billing/subscription';
import { resume, subscriptionView } from '@platform/domain/billing/subscriptions';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => subscriptionView(await resume(access)));
