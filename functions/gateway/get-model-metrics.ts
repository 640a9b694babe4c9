import { getModelMetrics as route } from '@platform/api/routes/gateway';
import { ForbiddenError } from '@platform/domain/shared/errors';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadMetrics = lazy(() => import('@platform/domain/gateway/metrics'));
const loadAccess = lazy(() => import('@platform/domain/identity/access'));

/** One organization's calls for its admins (`metrics:read`); every call for platform admins. */
export const handler = httpHandler(route, async ({ params, query, caller }) => {
  const { ALL, modelMetrics } = await loadMetrics();
  const { authorizeOrg } = await loadAccess();
  const user = userOf(caller);
  if (query.orgId) {
    const access = await authorizeOrg(user, query.orgId, 'metrics:read');
    return modelMetrics(params.modelId, access.orgId, query.from, query.to);
  }
  if (!user.isPlatformAdmin) throw new ForbiddenError('Name an organization (orgId) whose metrics you may read');
  return modelMetrics(params.modelId, ALL, query.from, query.to);
});
