import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { withSourceStack } from './source-stack.ts';

/** Keys whose values never reach a log line, wherever they are nested. */
const SECRET_KEY =
  /pass(word)?|secret|token|authorization|api[-_]?key|private[-_]?key|cookie|^key$|^code$|cipher|credential|signature|otpauth|^session$/i;

/**
 * The logger's JSON replacer, run as a line is written. An Error passes on, its stack (and its
 * causes') told in the sources (`source-stack.ts`): the logger then writes its name, message,
 * stack and cause (copying its own fields, as for other objects, would write `{}`), and this runs
 * again on what it writes.
 */
export function redact(_key: string, value: unknown): unknown {
  if (value instanceof Error) return withSourceStack(value);
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : v;
  return out;
}

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'platform-api',
  jsonReplacerFn: redact,
});

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Platform',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'platform-api',
});
