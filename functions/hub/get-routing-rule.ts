import { getRoutingRule as route } from '@platform/api/routes/hub/routing-rules';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => {
  const { getRule } = await import('@platform/domain/hub/routing-rules');
  const { orgOwner } = await import('@platform/domain/hub/owners');
  return getRule(orgOwner(access), params.ruleId);
});
