import { updateRoutingRule as route } from '@platform/api/routes/hub/routing-rules';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params, body }) => {
  const { patchRule } = await import('@platform/domain/hub/routing-rules');
  const { orgOwner } = await import('@platform/domain/hub/owners');
  return patchRule(orgOwner(access), params.ruleId, body);
});
