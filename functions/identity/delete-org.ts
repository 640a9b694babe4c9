import { deleteOrg as route } from '@platform/api/routes/identity/orgs';
import { subscriptionRead } from '@platform/domain/billing/subscriptions';
import { deleteOrganization } from '@platform/domain/identity/organizations';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => deleteOrganization(access), {
  // Read with the authorization, in its one request: the deletion may cancel its Stripe subscription.
  preload: ({ params }) => [subscriptionRead(params.orgId)],
});
