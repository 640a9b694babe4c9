import { Logger } from '@aws-lambda-powertools/logger';
import type { LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { withSourceStack } from './source-stack.ts';

/** Keys whose values never reach a log line, wherever they are nested. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|api[-_]?key|cookie|^key$|^code$|cipher|credential/i;

/**
 * The logger's JSON replacer. An Error passes as it is: the logger then writes its name, message,
 * stack and cause (copying its own fields, as for other objects, would write `{}`), and this runs
 * again on what it writes.
 */
export function redact(_key: string, value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value) || value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : v;
  return out;
}

/** Errors among what a log line carries get their stacks told in the sources (`source-stack.ts`). */
class SourceStackLogger extends Logger {
  protected override processLogItem(logLevel: number, input: LogItemMessage, extraInput: LogItemExtraInput): void {
    for (const extra of extraInput) {
      if (extra instanceof Error) withSourceStack(extra);
      else if (extra && typeof extra === 'object') for (const value of Object.values(extra)) withSourceStack(value);
    }
    super.processLogItem(logLevel, input, extraInput);
  }
}

export const logger = new SourceStackLogger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'platform-api',
  jsonReplacerFn: redact,
});

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Platform',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'platform-api',
});
