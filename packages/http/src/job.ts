import { traced } from './middleware/tracing.ts';
import { logger } from './observability.ts';

/**
 * A scheduled job's Lambda handler: runs the job, logs its report, and returns it (the
 * schedule's invocation result, and what `npm run job` prints). A report listing failures
 * is logged as an error, so an alarm on errors catches a job that partly failed. Traced by the
 * Powertools Tracer with `TRACING=powertools`, as the routes are.
 */
export function scheduledJob<R extends object>(name: string, run: () => Promise<R>) {
  return traced(async (): Promise<R> => {
    const started = Date.now();
    const report = await run();
    const failed = (report as { failed?: unknown[] }).failed;
    const details = { job: name, durationMs: Date.now() - started, report };
    if (Array.isArray(failed) && failed.length) logger.error('Job finished with failures', details);
    else logger.info('Job finished', details);
    return report;
  });
}
