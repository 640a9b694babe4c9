import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `trial-end`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('trial-end', async () => {
  const { runSubscriptionJob } = await import('@platform/domain/billing/jobs');
  return runSubscriptionJob('trial-end');
});
