import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `daily-usage`: rebuilds yesterday's (and the day before's) usage aggregates. */
export const handler = scheduledJob('daily-usage', async () => {
  const { dailyUsageJob } = await import('@platform/domain/usage/daily');
  return { days: await dailyUsageJob() };
});
