import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `cancellation`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('cancellation', async () => {
  const { runSubscriptionJob } = await import('@platform/domain/billing/jobs');
  return runSubscriptionJob('cancellation');
});
