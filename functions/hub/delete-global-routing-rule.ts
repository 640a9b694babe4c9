import { deleteGlobalRoutingRule as route } from '@platform/api/routes/hub/routing-rules';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadRoutingRules = lazy(() => import('@platform/domain/hub/routing-rules'));
const loadOwners = lazy(() => import('@platform/domain/hub/owners'));

export const handler = httpHandler(route, async ({ caller, params }) => {
  const { deleteRule } = await loadRoutingRules();
  const { platformOwner } = await loadOwners();
  return deleteRule(platformOwner(userOf(caller)), params.ruleId);
});
