import { runSubscriptionJob } from '@platform/domain/billing/jobs';
import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `trial-end`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('trial-end', (time) => runSubscriptionJob('trial-end', undefined, time.outOfTime));
