/**
 * The scheduled jobs that are one Lambda function each (EventBridge Scheduler → Lambda), in
 * one list: the async stack deploys a function and a schedule per entry, and the local cloud
 * runs the same handler by name (`npm run job -- <name>`). Multi-step work would go through
 * a state machine instead (the housekeeping pattern); these are single steps, each
 * idempotent and safe to run twice.
 */
export interface ScheduledJob {
  name: string;
  /** The handler module under `functions/`. */
  handler: string;
  description: string;
  /** Which context setting gives its schedule expression (see infra/config.ts). */
  schedule: 'billingJobsSchedule' | 'dailyUsageSchedule' | 'modelMetricsSchedule' | 'holdSweepSchedule';
}

export const SCHEDULED_JOBS: readonly ScheduledJob[] = [
  {
    name: 'renewal',
    handler: 'jobs/renewal',
    description:
      'Renews subscriptions at their period end: a scheduled downgrade applies, the monthly credits are granted once per period.',
    schedule: 'billingJobsSchedule',
  },
  {
    name: 'cancellation',
    handler: 'jobs/cancellation',
    description: 'Ends subscriptions set to cancel at their period end: Cancelled, back to Free with its credits.',
    schedule: 'billingJobsSchedule',
  },
  {
    name: 'trial-end',
    handler: 'jobs/trial-end',
    description: 'Ends trials that were not paid for: Expired, back to Free with its credits.',
    schedule: 'billingJobsSchedule',
  },
  {
    name: 'trial-reminder',
    handler: 'jobs/trial-reminder',
    description: 'Tells owners and admins that their trial ends in three days (once per trial).',
    schedule: 'billingJobsSchedule',
  },
  {
    name: 'grace-end',
    handler: 'jobs/grace-end',
    description: 'Suspends subscriptions whose grace period after a failed or missing payment ran out.',
    schedule: 'billingJobsSchedule',
  },
  {
    name: 'expiry',
    handler: 'jobs/expiry',
    description: 'Expires subscriptions suspended too long: back to Free.',
    schedule: 'billingJobsSchedule',
  },
  {
    name: 'daily-usage',
    handler: 'jobs/daily-usage',
    description:
      'Rebuilds the daily usage aggregates from the usage logs: yesterday and the day before, or, after missed runs, every day from the last one aggregated (31 a run).',
    schedule: 'dailyUsageSchedule',
  },
  {
    name: 'model-metrics',
    handler: 'jobs/model-metrics',
    description:
      'Carries the model metrics roll-ups of the current hour (and of the last, until complete) forward to 15 seconds ago, per model, platform-wide and per organization.',
    schedule: 'modelMetricsSchedule',
  },
  {
    name: 'expired-holds',
    handler: 'jobs/expired-holds',
    description:
      'Closes credit holds past their expiry (work that never settled, a gateway container that died with a lease): what was drawn is charged, the rest returns to the balance.',
    schedule: 'holdSweepSchedule',
  },
];

/** The table-stream consumers (async stack), by handler path under functions/. */
export const STREAM_HANDLERS = ['streams/billing-notifications', 'streams/api-client-departures'] as const;
