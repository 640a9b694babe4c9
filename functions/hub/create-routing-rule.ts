import { createRoutingRule as route } from '@platform/api/routes/hub/routing-rules';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => {
  const { createRule } = await import('@platform/domain/hub/routing-rules');
  const { orgOwner } = await import('@platform/domain/hub/owners');
  return createRule(orgOwner(access), body);
});
