import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `expiry`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('expiry', async () => {
  const { runSubscriptionJob } = await import('@platform/domain/billing/jobs');
  return runSubscriptionJob('expiry');
});
