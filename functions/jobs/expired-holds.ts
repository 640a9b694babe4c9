import { releaseExpiredReservations } from '@platform/domain/billing/ledger';
import { scheduledJob } from '@platform/http/job';

/** EventBridge schedule `expired-holds`: closes credit holds past their expiry (drawn credits charged, the rest released). */
export const handler = scheduledJob('expired-holds', (time) => releaseExpiredReservations(undefined, time.outOfTime));
