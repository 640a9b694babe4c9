import { cancelSubscription as route } from '@platform/api/routes/billing/subscription';
import { cancel, subscriptionView } from '@platform/domain/billing/subscriptions';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => subscriptionView(await cancel(access)));
