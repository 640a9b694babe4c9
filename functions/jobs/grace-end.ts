import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `grace-end`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('grace-end', async () => {
  const { runSubscriptionJob } = await import('@platform/domain/billing/jobs');
  return runSubscriptionJob('grace-end');
});
