import { scheduledJob } from '@platform/http/job';
import { lazy } from '@platform/domain/shared/lazy';

const loadDaily = lazy(() => import('@platform/domain/usage/daily'));

/** EventBridge schedule `daily-usage`: rebuilds yesterday's (and the day before's) usage aggregates. */
export const handler = scheduledJob('daily-usage', async () => {
  const { dailyUsageJob } = await loadDaily();
  return { days: await dailyUsageJob() };
});
