import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `trial-reminder`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('trial-reminder', async () => {
  const { runSubscriptionJob } = await import('@platform/domain/billing/jobs');
  return runSubscriptionJob('trial-reminder');
});
