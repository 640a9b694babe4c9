import { getModelMetrics as route } from '@platform/api/routes/gateway';
import { ALL, modelMetrics, platformRollupRead, type MetricRollup } from '@platform/domain/gateway/metrics';
import { authorizeOrg } from '@platform/domain/identity/access';
import { ForbiddenError } from '@platform/domain/shared/errors';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

/**
 * One organization's calls for its admins (`metrics:read`); every call for platform admins.
 * The platform-wide roll-up of the current hour, where an organization's latest calls start,
 * is read with the authorization: one request for both.
 */
export const handler = httpHandler(route, async ({ params, query, caller }) => {
  const user = userOf(caller);
  if (query.orgId) {
    const now = new Date();
    const access = await authorizeOrg(user, query.orgId, 'metrics:read', [platformRollupRead(params.modelId, now)]);
    const platform = (access.preloaded?.[0] ?? null) as MetricRollup | null;
    return modelMetrics(params.modelId, access.orgId, query.from, query.to, { now, platform });
  }
  if (!user.isPlatformAdmin) throw new ForbiddenError('Name an organization (orgId) whose metrics you may read');
  return modelMetrics(params.modelId, ALL, query.from, query.to);
});
