import { scheduledJob } from '@platform/http/job';
import { lazy } from '@platform/domain/shared/lazy';

const loadJobs = lazy(() => import('@platform/domain/billing/jobs'));

/** EventBridge schedule `trial-end`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('trial-end', async () => {
  const { runSubscriptionJob } = await loadJobs();
  return runSubscriptionJob('trial-end');
});
