import { runSubscriptionJob } from '@platform/domain/billing/jobs';
import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `cancellation`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('cancellation', (time) => runSubscriptionJob('cancellation', undefined, time.outOfTime));
