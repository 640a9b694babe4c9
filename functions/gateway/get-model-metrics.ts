import { getModelMetrics as route } from '@platform/api/routes/gateway';
import { ForbiddenError } from '@platform/domain/shared/errors';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

/** One organization's calls for its admins (`metrics:read`); every call for platform admins. */
export const handler = httpHandler(route, async ({ params, query, caller }) => {
  const { ALL, modelMetrics } = await import('@platform/domain/gateway/metrics');
  const { authorizeOrg } = await import('@platform/domain/identity/access');
  const user = userOf(caller);
  if (query.orgId) {
    const access = await authorizeOrg(user, query.orgId, 'metrics:read');
    return modelMetrics(params.modelId, access.orgId, query.from, query.to);
  }
  if (!user.isPlatformAdmin) throw new ForbiddenError('Name an organization (orgId) whose metrics you may read');
  return modelMetrics(params.modelId, ALL, query.from, query.to);
});
