import * as z from 'zod';
import {
  dayOf,
  endOfDay,
  idOf,
  inSortableYears,
  isoDateTime,
  page,
  pageQuery,
  SORTABLE_YEARS,
  utcCeil,
  utcDateTime,
  uuid,
} from '../shared/schemas.ts';
import { storedJsonObject } from '../shared/json-value.ts';
import { AGENT_TYPES, USAGE_STATUSES } from './enums.ts';

/** Usage logs: what the gateway records, what the API lists, filters and exports. */

export { dayOf, endOfDay };

/** A UTC day, YYYY-MM-DD, in years 0001–9999 (`inSortableYears`). */
export const usageDay = z.iso.date().refine(inSortableYears, SORTABLE_YEARS);
/** Provider and model names: they become parts of keys (`model#<model>`), so no `#`. */
const label = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[^#\p{Cc}]+$/u, 'No # and no control characters');
const count = z.number().int().min(0).max(1e12);
/** Micro-USD: 1 USD = 1_000_000. */
const micros = z.number().int().min(0).max(1e15);
const reference = z.string().trim().min(1).max(128);

export const recordUsageInput = z
  .object({
    orgId: idOf('org'),
    userId: uuid.optional(),
    apiClientId: idOf('ak').optional(),
    chatId: reference.optional(),
    generationRequestId: reference.optional(),
    agentType: z.enum(AGENT_TYPES),
    provider: label,
    model: label,
    inputTokens: count.default(0),
    outputTokens: count.default(0),
    /** Defaults to input + output. */
    totalTokens: count.optional(),
    inputCostMicros: micros.default(0),
    outputCostMicros: micros.default(0),
    /** Defaults to input + output. */
    totalCostMicros: micros.optional(),
    credits: count.default(0),
    requestAt: utcDateTime,
    responseAt: utcDateTime,
    /** Defaults to responseAt − requestAt. */
    durationMs: z.number().int().min(0).max(86_400_000).optional(),
    status: z.enum(USAGE_STATUSES),
    metadata: storedJsonObject(8_192, 'At most 8 KiB').optional(),
  })
  .strict()
  .refine((u) => u.requestAt <= u.responseAt, { message: 'The response cannot come before the request', path: ['responseAt'] })
  .transform((u) => ({
    ...u,
    totalTokens: u.totalTokens ?? u.inputTokens + u.outputTokens,
    totalCostMicros: u.totalCostMicros ?? u.inputCostMicros + u.outputCostMicros,
    durationMs: u.durationMs ?? Date.parse(u.responseAt) - Date.parse(u.requestAt),
  }));
export type RecordUsageInput = z.input<typeof recordUsageInput>;

export const idempotencyKey = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\p{Cc}]+$/u, 'No control characters');

const dateOrInstant = z.union([z.iso.date(), isoDateTime]);

/** Which logs: the user and the date range are read through an index; the rest filter that range. */
export const usageFilters = z.object({
  userId: uuid.optional().describe('Index-backed'),
  apiClientId: idOf('ak').optional(),
  agentType: z.enum(AGENT_TYPES).optional(),
  model: label.optional(),
  from: dateOrInstant
    .transform((v) => (v.length === 10 ? `${v}T00:00:00.000Z` : utcCeil(v)))
    .refine(inSortableYears, SORTABLE_YEARS)
    .optional()
    .describe('Inclusive: an instant, or a UTC day (from its start); years 0001–9999 in UTC'),
  to: dateOrInstant
    .transform((v) => (v.length === 10 ? endOfDay(v) : utcCeil(v)))
    .refine(inSortableYears, SORTABLE_YEARS)
    .optional()
    .describe('Exclusive instant, or a UTC day (up to its end, inclusive); years 0001–9999 in UTC'),
});
export type UsageFilters = z.output<typeof usageFilters>;

const orderedRange = <T extends { from?: string; to?: string }>(q: T) => !q.from || !q.to || q.from < q.to;
const rangeMessage = { message: '`from` must be before `to`', path: ['from'] };

export const usageQuery = pageQuery.extend(usageFilters.shape).refine(orderedRange, rangeMessage);
export type UsageQuery = z.output<typeof usageQuery>;

export const EXPORT_MAX_ROWS = 1000;
export const usageExportQuery = usageFilters
  .extend({
    cursor: z.string().max(2048).optional(),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(EXPORT_MAX_ROWS)
      .optional()
      .describe(`Rows in this file, at most ${EXPORT_MAX_ROWS}; the \`x-next-cursor\` header gives the next file`),
  })
  .refine(orderedRange, rangeMessage);
export type UsageExportQuery = z.output<typeof usageExportQuery>;

export const usageLogResponse = z.object({
  usageId: z.string(),
  orgId: z.string(),
  userId: z.string().optional(),
  apiClientId: z.string().optional(),
  chatId: z.string().optional(),
  generationRequestId: z.string().optional(),
  agentType: z.enum(AGENT_TYPES),
  provider: z.string(),
  model: z.string(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  totalTokens: z.number(),
  inputCostMicros: z.number().describe('Micro-USD (1 USD = 1,000,000)'),
  outputCostMicros: z.number().describe('Micro-USD'),
  totalCostMicros: z.number().describe('Micro-USD'),
  credits: z.number(),
  requestAt: z.string(),
  responseAt: z.string(),
  durationMs: z.number(),
  status: z.enum(USAGE_STATUSES),
  metadata: z.unknown().optional(),
  createdAt: z.string(),
});
export const usagePage = page(usageLogResponse);

/** `org`, `user`, `model` (every user or model: a breakdown), or one series: `user#<userId>`, `model#<model>`. */
export const dimension = z
  .string()
  .regex(
    /^(org|user|model|user#[^#\p{Cc}]{1,200}|model#[^#\p{Cc}]{1,200})$/u,
    'org, user, model, user#<userId> or model#<model>',
  );

export const DAILY_MAX_ITEMS = 1000;
export const dailyUsageQuery = z
  .object({
    from: usageDay.optional().describe('First UTC day, inclusive (default: 29 days before `to`); years 0001–9999'),
    to: usageDay.optional().describe('Last UTC day, inclusive (default: today); years 0001–9999'),
    dimension: dimension.default('org'),
    cursor: z.string().max(2048).optional(),
    limit: z.coerce.number().int().min(1).max(DAILY_MAX_ITEMS).optional(),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: '`from` must not be after `to`', path: ['from'] });

export const dailyUsageResponse = z.object({
  orgId: z.string(),
  day: z.string(),
  dimension: z.string(),
  kind: z.enum(['org', 'user', 'model']),
  inputTokens: z.number(),
  outputTokens: z.number(),
  totalTokens: z.number(),
  inputCostMicros: z.number().describe('Micro-USD'),
  outputCostMicros: z.number().describe('Micro-USD'),
  totalCostMicros: z.number().describe('Micro-USD'),
  credits: z.number(),
  calls: z.number(),
  errors: z.number().describe('Calls that ended in error or timeout'),
  aggregatedAt: z.string(),
});
export const dailyUsagePage = page(dailyUsageResponse);
