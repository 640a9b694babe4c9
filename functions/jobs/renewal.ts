import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `renewal`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('renewal', async () => {
  const { runSubscriptionJob } = await import('@platform/domain/billing/jobs');
  return runSubscriptionJob('renewal');
});
