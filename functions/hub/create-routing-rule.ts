import { createRoutingRule as route } from '@platform/api/routes/hub/routing-rules';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadRoutingRules = lazy(() => import('@platform/domain/hub/routing-rules'));
const loadOwners = lazy(() => import('@platform/domain/hub/owners'));

export const handler = httpHandler(route, async ({ access, body }) => {
  const { createRule } = await loadRoutingRules();
  const { orgOwner } = await loadOwners();
  return createRule(orgOwner(access), body);
});
