import { getModelMetrics as route } from '@platform/api/routes/gateway';
import { ALL, modelMetrics, platformRollupRead, type MetricRollup, type MetricsSummary } from '@platform/domain/gateway/metrics';
import type { ModelItem } from '@platform/domain/hub/entities';
import { modelExists, modelRead } from '@platform/domain/hub/models';
import { accountGone, accountRead, authorizeOrg, isAccountDeleted } from '@platform/domain/identity/access';
import type { User } from '@platform/domain/identity/entities';
import { transactGet } from '@platform/domain/shared/transactions';
import { ForbiddenError, NotFoundError } from '@platform/domain/shared/errors';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

/**
 * One organization's calls for its admins (`metrics:read`); every call for platform admins.
 * The platform-wide roll-up of the current hour, where an organization's latest calls start,
 * and the model are read with the authorization: one request for all three.
 */
export const handler = httpHandler(route, async ({ params, query, caller }) => {
  const user = userOf(caller);
  const { modelId } = params;
  if (query.orgId) {
    const now = new Date();
    const access = await authorizeOrg(user, query.orgId, 'metrics:read', [
      platformRollupRead(modelId, now),
      modelRead(modelId, query.orgId),
    ]);
    const [platform, model] = (access.preloaded ?? []) as [MetricRollup | null, ModelItem | null];
    return known(modelId, model, await modelMetrics(modelId, access.orgId, query.from, query.to, { now, platform }));
  }
  if (!user.isPlatformAdmin) throw new ForbiddenError('Name an organization (orgId) whose metrics you may read');
  // The admin's profile is read with the model: a deleted admin's token has no powers left.
  const [[model, account], metrics] = await Promise.all([
    transactGet<[ModelItem, User]>([modelRead(modelId), accountRead(user.userId)]),
    modelMetrics(modelId, ALL, query.from, query.to),
  ]);
  if (isAccountDeleted(account)) throw accountGone();
  return known(modelId, model, metrics);
});

/**
 * The metrics of a model of the catalogue (retired ones too) or of the organization: any other
 * id (another organization's model, an alias, a typo) is a 404 rather than a page of zeros.
 * A model removed since (a catalogue model an admin added, a deleted custom model) still
 * answers for a range that holds calls of it.
 */
function known(modelId: string, model: ModelItem | null, metrics: MetricsSummary): MetricsSummary {
  if (modelExists(modelId, model) || metrics.calls > 0) return metrics;
  throw new NotFoundError(`No model ${modelId}`);
}
