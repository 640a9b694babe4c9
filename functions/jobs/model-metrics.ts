import { scheduledJob } from '@platform/http/job';
import { lazy } from '@platform/domain/shared/lazy';

const loadMetrics = lazy(() => import('@platform/domain/gateway/metrics'));

/** EventBridge schedule `model-metrics`: rolls the last two hours of gateway calls up per model. */
export const handler = scheduledJob('model-metrics', async () => {
  const { modelMetricsJob } = await loadMetrics();
  return modelMetricsJob();
});
