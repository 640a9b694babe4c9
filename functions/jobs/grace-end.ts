import { runSubscriptionJob } from '@platform/domain/billing/jobs';
import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `grace-end`: see packages/domain/src/billing/jobs.ts. */
export const handler = scheduledJob('grace-end', (time) => runSubscriptionJob('grace-end', undefined, time.outOfTime));
