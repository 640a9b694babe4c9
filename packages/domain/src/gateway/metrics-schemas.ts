import * as z from 'zod';
import { idOf, utcDateTime, utcDateTimeCeil } from '../shared/schemas.ts';

/** `GET /v1/models/{modelId}/metrics`: a model's latency, errors, tokens and cost over a range. */
const MAX_RANGE_MS = 93 * 86_400_000;

export const modelIdParams = z.object({
  modelId: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'A model id'),
});

export const modelMetricsQuery = z
  .object({
    orgId: idOf('org').optional().describe('One organization (its admins); platform admins may leave it out for every call'),
    from: utcDateTime
      .transform((v) => new Date(v))
      .optional()
      .describe('Inclusive, rounded down to the start of its hour (metrics are kept by the hour); default 24 hours ago'),
    // Rounded up to the millisecond first: rounded down, `…10:00:00.0001Z` would leave out the hour it falls in.
    to: utcDateTimeCeil
      .transform((v) => new Date(v))
      .optional()
      .describe('Exclusive, rounded up to the end of its hour; default now'),
  })
  .transform((q) => {
    const to = q.to ?? new Date();
    return { orgId: q.orgId, to, from: q.from ?? new Date(to.getTime() - 86_400_000) };
  })
  .refine((q) => q.from < q.to, { message: '`from` must be before `to`', path: ['from'] })
  .refine((q) => q.to.getTime() - q.from.getTime() <= MAX_RANGE_MS, { message: 'At most 93 days', path: ['from'] });

const percentiles = z.object({ p50: z.number().nullable(), p95: z.number().nullable(), mean: z.number().nullable() });

export const modelMetricsResponse = z.object({
  modelId: z.string(),
  scope: z.string().describe('`all`, or the organization id'),
  from: z.string().describe('The start of the range counted: the requested `from`, rounded down to the start of its hour'),
  to: z.string().describe('The end of the range counted (exclusive): the requested `to`, rounded up to the end of its hour'),
  asOf: z
    .string()
    .describe(
      'The current hour counts every call recorded before this. For an organization: now, unless its latest calls fill more than one read. Platform-wide: where the roll-up job got to, about a minute ago. Earlier hours come from the same roll-ups',
    ),
  calls: z.number(),
  errors: z.number(),
  timeouts: z.number(),
  errorRate: z.number().describe('(errors + timeouts) / calls'),
  latencyMs: percentiles,
  tokens: z.object({ input: z.number(), output: z.number(), total: z.number() }),
  costMicros: z.number().describe('Micro-USD'),
  errorTypes: z.record(z.string(), z.number()),
  hourly: z.array(
    z.object({
      hour: z.string(),
      calls: z.number(),
      errors: z.number(),
      p50: z.number().nullable(),
      p95: z.number().nullable(),
      costMicros: z.number(),
    }),
  ),
});
