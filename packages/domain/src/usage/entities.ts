import { type EntityItem } from 'electrodb';
import { Entity, SERVICE, entityConfig, lazy } from '../shared/dynamo.ts';
import { AGENT_TYPES, USAGE_STATUSES } from './enums.ts';
export { AGENT_TYPES, USAGE_STATUSES, type AgentType, type UsageStatus } from './enums.ts';

/**
 * Metering (DOMAIN.md §2, UsageLog). Every billable call leaves one UsageLog, written once
 * and never changed. Reports read `UsageDaily` aggregates that a daily job rebuilds from the
 * logs: nothing on the request path updates a shared counter, so a busy organization never
 * contends on one item (ARCHITECTURE.md, "Usage logs append-only").
 *
 * Money is stored as integer micro-units of USD (1 USD = 1_000_000), so sums are exact.
 * Days are UTC calendar days, `YYYY-MM-DD`.
 */
const service = SERVICE;
const config = entityConfig;

export const DIMENSION_KINDS = ['org', 'user', 'model'] as const;
export type DimensionKind = (typeof DIMENSION_KINDS)[number];

const count = { type: 'number', required: true, default: 0 } as const;

const UsageLogEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'usagelog', version: '1', service },
        attributes: {
          orgId: { type: 'string', required: true, readOnly: true },
          /** The recorder's idempotency key: one log per key, ever. Never returned by the API. */
          key: { type: 'string', required: true, readOnly: true },
          usageId: { type: 'string', required: true, readOnly: true },
          userId: { type: 'string', readOnly: true },
          apiClientId: { type: 'string', readOnly: true },
          chatId: { type: 'string', readOnly: true },
          generationRequestId: { type: 'string', readOnly: true },
          agentType: { type: AGENT_TYPES, required: true, readOnly: true },
          provider: { type: 'string', required: true, readOnly: true },
          model: { type: 'string', required: true, readOnly: true },
          inputTokens: { ...count, readOnly: true },
          outputTokens: { ...count, readOnly: true },
          totalTokens: { ...count, readOnly: true },
          /** Micro-USD. */
          inputCostMicros: { ...count, readOnly: true },
          outputCostMicros: { ...count, readOnly: true },
          totalCostMicros: { ...count, readOnly: true },
          credits: { ...count, readOnly: true },
          requestAt: { type: 'string', required: true, readOnly: true },
          responseAt: { type: 'string', required: true, readOnly: true },
          durationMs: { ...count, readOnly: true },
          status: { type: USAGE_STATUSES, required: true, readOnly: true },
          metadata: { type: 'any', readOnly: true },
          /** When the log was written (it may trail `responseAt` when the recorder retried). */
          createdAt: { type: 'string', required: true, readOnly: true },
          /**
           * Keys of `byUser`: `<orgId>#<userId>` and `<requestAt>#<usageId>`, set only when a user
           * made the call. ElectroDB leaves an index out of an item when none of its composites
           * are there, so calls of an API client alone stay out of that index (a sparse index).
           */
          userScope: { type: 'string', hidden: true, readOnly: true },
          userSort: { type: 'string', hidden: true, readOnly: true },
        },
        indexes: {
          /** Makes the write exactly-once: a conditional put on (org, key). Keys keep their case. */
          byKey: {
            pk: { field: 'pk', composite: ['orgId'] },
            sk: { field: 'sk', composite: ['key'], casing: 'none' },
          },
          /** An organization's logs by time: the date range of every org-wide listing and the daily job. */
          byTime: {
            index: 'gsi1',
            pk: { field: 'gsi1pk', composite: ['orgId'] },
            sk: { field: 'gsi1sk', composite: ['requestAt', 'usageId'] },
          },
          /** One member's logs in an organization, by time. */
          byUser: {
            index: 'gsi2',
            pk: { field: 'gsi2pk', composite: ['userScope'] },
            sk: { field: 'gsi2sk', composite: ['userSort'] },
          },
        },
      },
      config(),
    ),
);

const UsageDailyEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'usagedaily', version: '1', service },
        attributes: {
          orgId: { type: 'string', required: true, readOnly: true },
          day: { type: 'string', required: true, readOnly: true },
          /** `org`, `user#<userId>` or `model#<model>`. */
          dimension: { type: 'string', required: true, readOnly: true },
          kind: { type: DIMENSION_KINDS, required: true, readOnly: true },
          inputTokens: count,
          outputTokens: count,
          totalTokens: count,
          inputCostMicros: count,
          outputCostMicros: count,
          totalCostMicros: count,
          credits: count,
          calls: count,
          /** Calls that ended in `error` or `timeout`. */
          errors: count,
          aggregatedAt: { type: 'string', required: true },
        },
        indexes: {
          /** One series: a dimension over a range of days. */
          byDimension: {
            pk: { field: 'pk', composite: ['orgId'] },
            sk: { field: 'sk', composite: ['dimension', 'day'], casing: 'none' },
          },
          /** A breakdown: every user (or model) of an organization over a range of days. */
          byDay: {
            index: 'gsi1',
            pk: { field: 'gsi1pk', composite: ['orgId', 'kind'] },
            sk: { field: 'gsi1sk', composite: ['day', 'dimension'], casing: 'none' },
          },
        },
      },
      config(),
    ),
);

/**
 * Which organizations had usage on a day, so the daily job can visit them without a Scan.
 * Written at most once per organization, day and warm Lambda (see `recordUsage`), never per call.
 */
const UsageDayEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'usageday', version: '1', service },
        attributes: {
          day: { type: 'string', required: true, readOnly: true },
          orgId: { type: 'string', required: true, readOnly: true },
          ttl: { type: 'number' },
        },
        indexes: {
          byDay: { pk: { field: 'pk', composite: ['day'] }, sk: { field: 'sk', composite: ['orgId'] } },
        },
      },
      config(),
    ),
);

/**
 * How far the daily job got: the last day it aggregated, so that a run after missed ones
 * (a schedule down for days) catches up from there. One item per job.
 */
const UsageJobEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'usagejob', version: '1', service },
        attributes: {
          job: { type: 'string', required: true, readOnly: true },
          /** A UTC day, `YYYY-MM-DD`. */
          aggregatedThrough: { type: 'string', required: true },
          updatedAt: { type: 'string', required: true },
        },
        indexes: {
          byJob: { pk: { field: 'pk', composite: ['job'] }, sk: { field: 'sk', composite: [] } },
        },
      },
      config(),
    ),
);

export const usageDb = {
  get log() {
    return UsageLogEntity();
  },
  get daily() {
    return UsageDailyEntity();
  },
  get activeDay() {
    return UsageDayEntity();
  },
  get job() {
    return UsageJobEntity();
  },
};

export type UsageLog = EntityItem<ReturnType<typeof UsageLogEntity>>;
export type UsageDaily = EntityItem<ReturnType<typeof UsageDailyEntity>>;
