import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `model-metrics`: rolls the last two hours of gateway calls up per model. */
export const handler = scheduledJob('model-metrics', async () => {
  const { modelMetricsJob } = await import('@platform/domain/gateway/metrics');
  return modelMetricsJob();
});
