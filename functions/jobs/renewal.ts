import { runSubscriptionJob } from '@platform/domain/billing/jobs';
import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `renewal`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('renewal', (time) => runSubscriptionJob('renewal', undefined, time.outOfTime));
