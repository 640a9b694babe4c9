import { runSubscriptionJob } from '@platform/domain/billing/jobs';
import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `trial-reminder`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('trial-reminder', (time) => runSubscriptionJob('trial-reminder', undefined, time.outOfTime));
