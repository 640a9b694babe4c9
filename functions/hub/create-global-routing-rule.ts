import { createGlobalRoutingRule as route } from '@platform/api/routes/hub/routing-rules';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadRoutingRules = lazy(() => import('@platform/domain/hub/routing-rules'));
const loadOwners = lazy(() => import('@platform/domain/hub/owners'));

export const handler = httpHandler(route, async ({ caller, body }) => {
  const { createRule } = await loadRoutingRules();
  const { platformOwner } = await loadOwners();
  return createRule(platformOwner(userOf(caller)), body);
});
