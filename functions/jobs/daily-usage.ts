import { dailyUsageJob } from '@platform/domain/usage/daily';
import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `daily-usage`: rebuilds the usage aggregates of the days since its last run (see `dailyUsageJob`). */
export const handler = scheduledJob('daily-usage', (time) => dailyUsageJob(undefined, time.outOfTime));
