import { scheduledJob } from '@platform/http/job';
import { lazy } from '@platform/domain/shared/lazy';

const loadJobs = lazy(() => import('@platform/domain/billing/jobs'));

/** EventBridge schedule `cancellation`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('cancellation', async () => {
  const { runSubscriptionJob } = await loadJobs();
  return runSubscriptionJob('cancellation');
});
