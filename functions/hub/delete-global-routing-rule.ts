import { deleteGlobalRoutingRule as route } from '@platform/api/routes/hub/routing-rules';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { deleteRule } = await import('@platform/domain/hub/routing-rules');
  const { platformOwner } = await import('@platform/domain/hub/owners');
  return deleteRule(platformOwner(userOf(caller)), params.ruleId);
});
