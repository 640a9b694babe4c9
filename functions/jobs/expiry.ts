import { runSubscriptionJob } from '@platform/domain/billing/jobs';
import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `expiry`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('expiry', (time) => runSubscriptionJob('expiry', undefined, time.outOfTime));
