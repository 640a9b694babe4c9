import type { Context } from 'aws-lambda';
import { traced } from './middleware/tracing.ts';
import { logger } from './observability.ts';

/**
 * A job takes up no new work once less than this is left of its function's time: enough to
 * finish the items under way and return its report, which a run killed at its timeout loses
 * (with the failures it lists).
 */
export const JOB_STOP_MARGIN_MS = 30_000;

/** What a job is told of its invocation's time. */
export interface JobTime {
  /** Milliseconds left before Lambda stops the function (unbounded when called without a context). */
  timeLeftMs(): number;
  /** True once the job must take up no new work (less than `JOB_STOP_MARGIN_MS` left). */
  outOfTime(): boolean;
}

/**
 * A scheduled job's Lambda handler: runs the job, logs its report, and returns it (the
 * schedule's invocation result, and what `npm run job` prints). A report listing failures
 * is logged as an error, so an alarm on errors catches a job that partly failed; one that
 * stopped with work left (`leftForNextRun`: its time nearly spent, or a cap of its own) is
 * logged as a warning, as the next run takes that work up. Traced by the Powertools Tracer with
 * `TRACING=powertools`, as the routes are.
 */
export function scheduledJob<R extends object>(name: string, run: (time: JobTime) => Promise<R>) {
  return traced(async (_event: unknown, context?: Context): Promise<R> => {
    const started = Date.now();
    // Lambda always passes its context; a caller without one (a test, the tracer's empty one) sets no deadline.
    const timeLeftMs = () => context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
    const report = await run({ timeLeftMs, outOfTime: () => timeLeftMs() < JOB_STOP_MARGIN_MS });
    const failed = (report as { failed?: unknown[] }).failed;
    const left = (report as { leftForNextRun?: number }).leftForNextRun;
    const details = { job: name, durationMs: Date.now() - started, report };
    if (Array.isArray(failed) && failed.length) logger.error('Job finished with failures', details);
    else if (typeof left === 'number' && left > 0) logger.warn('Job stopped with work left for the next run', details);
    else logger.info('Job finished', details);
    return report;
  });
}
