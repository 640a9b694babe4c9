import { dailyUsageJob } from '@platform/domain/usage/daily';
import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `daily-usage`: rebuilds yesterday's (and the day before's) usage aggregates. */
export const handler = scheduledJob('daily-usage', async () => ({ days: await dailyUsageJob() }));
