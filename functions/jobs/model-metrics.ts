import { modelMetricsJob } from '@platform/domain/gateway/metrics';
import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `model-metrics` (every minute): carries the hour's roll-ups of gateway calls forward, per model. */
export const handler = scheduledJob('model-metrics', (time) => modelMetricsJob(undefined, time.outOfTime));
