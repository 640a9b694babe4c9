import { deleteRoutingRule as route } from '@platform/api/routes/hub/routing-rules';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => {
  const { deleteRule } = await import('@platform/domain/hub/routing-rules');
  const { orgOwner } = await import('@platform/domain/hub/owners');
  return deleteRule(orgOwner(access), params.ruleId);
});
