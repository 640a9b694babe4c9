import { conditionFailed } from '../shared/dynamo.ts';
import type * as z from 'zod';
import { clock } from '../shared/clock.ts';
import { ValidationError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { usageCsv } from './csv.ts';
import { usageDb, type UsageLog } from './entities.ts';
import { put } from '../shared/transactions.ts';
import { pageOf } from '../shared/pages.ts';
import {
  EXPORT_MAX_ROWS,
  dayOf,
  idempotencyKey,
  recordUsageInput,
  type RecordUsageInput,
  type UsageExportQuery,
  type UsageFilters,
  type UsageQuery,
} from './schemas.ts';

/**
 * Usage logs: written once per billable call by the gateway, read by the usage API.
 *
 * Reads, each one Query:
 * - the date range is the sort key of every read (`from` inclusive, `to` exclusive);
 * - with `userId`, the query reads that member's index (`byUser`), otherwise the
 *   organization's (`byTime`);
 * - `apiClientId`, `agentType` and `model` are filter expressions over that range: a page
 *   may hold fewer items than `limit` (even none) and still have a `nextCursor`.
 */
export const EXPORT_QUERIES = 2;
const DEFAULT_PAGE = 50;
const ACTIVE_DAY_RETENTION_DAYS = 400;
const MARK_ATTEMPTS = 3;
/** Below and above every ISO instant: a range with no `from` or `to` stays inside this entity's keys. */
const FIRST = '0';
const LAST = '~';

function parse<T extends z.ZodType>(schema: T, value: unknown, path: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(
    'The usage record is not valid',
    result.error.issues.map((issue) => ({ path: [path, ...issue.path.map(String)].join('.'), message: issue.message })),
  );
}

const userScope = (orgId: string, userId: string) => `${orgId}#${userId}`;

/** Organizations marked active for a day by this process, or being marked (see `markActive`). */
const markedActive = new Map<string, Promise<void>>();

/**
 * Notes that the organization had usage on the day, for the daily job. A plain put of the
 * same item, made once by this process (calls meanwhile wait for the same write): a handful
 * of writes per organization and day, not one per call. A failed write is tried again a few
 * times, then forgotten, so the next call makes it again.
 */
function markActive(orgId: string, day: string): Promise<void> {
  const memo = `${day}|${orgId}`;
  const marked = markedActive.get(memo);
  if (marked) return marked;
  const ttl = Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + ACTIVE_DAY_RETENTION_DAYS * 86_400;
  const marking = (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await usageDb.activeDay.put({ day, orgId, ttl }).go({ response: 'none' });
      } catch (error) {
        if (attempt >= MARK_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
  })().then(
    () => undefined,
    (error: unknown) => {
      markedActive.delete(memo);
      throw error;
    },
  );
  if (markedActive.size >= 10_000) markedActive.clear();
  markedActive.set(memo, marking);
  return marking;
}

/**
 * Records one billable call, exactly once per idempotency key: the log is a conditional put
 * on (organization, key), so a retried or repeated call returns the first log unchanged.
 * Append-only: nothing ever updates or deletes a log.
 */
export async function recordUsage(input: RecordUsageInput, key: string): Promise<UsageLog> {
  const { log, create } = usageLogWrite(input, key);
  await markUsageDay(log);
  let recorded = log;
  try {
    await create.go({ response: 'none' });
  } catch (error) {
    if (!conditionFailed(error)) throw error;
    const { data } = await usageDb.log.get({ orgId: log.orgId, key }).go({ consistent: true });
    recorded = data!;
  }
  return recorded;
}

/**
 * The usage log as one write (it fails when `key` was recorded before), for a caller that
 * records it inside its own transaction (the gateway, with the credit settlement). Call
 * `markUsageDay` before the transaction.
 */
export function usageLogWrite(input: RecordUsageInput, key: string) {
  const usage = parse(recordUsageInput, input, 'usage');
  parse(idempotencyKey, key, 'idempotencyKey');
  const usageId = newId('use', Date.parse(usage.requestAt));
  const log: UsageLog = { ...usage, key, usageId, createdAt: clock.nowIso() };
  const byUserKeys = usage.userId
    ? { userScope: userScope(usage.orgId, usage.userId), userSort: `${usage.requestAt}#${usageId}` }
    : {};
  const create = usageDb.log.create({ ...log, ...byUserKeys });
  return { log, create, write: put(create) };
}

/**
 * What comes before a usage log is written: the organization is marked active on the log's day,
 * for the daily job, which visits only the organizations marked. Before, never after: a log
 * that landed always has its marker (a marker with no log, the write having failed, is harmless),
 * while a marker written after could fail with nothing left to retry it.
 */
export const markUsageDay = (log: Pick<UsageLog, 'orgId' | 'requestAt'>) => markActive(log.orgId, dayOf(log.requestAt));

/** The one Query behind a list or an export page: an index and a date range, then filters. */
function logsQuery(orgId: string, filters: UsageFilters) {
  const from = filters.from ?? FIRST;
  const to = filters.to ?? LAST;
  const ranged = filters.userId
    ? usageDb.log.query.byUser({ userScope: userScope(orgId, filters.userId) }).between({ userSort: from }, { userSort: to })
    : usageDb.log.query.byTime({ orgId }).between({ requestAt: from }, { requestAt: to });
  const { apiClientId, agentType, model } = filters;
  return ranged
    .where((attr, { eq }) => (apiClientId ? eq(attr.apiClientId, apiClientId) : ''))
    .where((attr, { eq }) => (agentType ? eq(attr.agentType, agentType) : ''))
    .where((attr, { eq }) => (model ? eq(attr.model, model) : ''));
}

/** An organization's usage logs, newest first, by user, API client, agent type, model and date range. */
export async function listUsage(orgId: string, query: UsageQuery = {}) {
  const { data, cursor } = await pageOf(logsQuery(orgId, query), {
    cursor: query.cursor,
    limit: query.limit ?? DEFAULT_PAGE,
    order: 'desc',
  });
  return { items: data as UsageLog[], nextCursor: cursor };
}

/**
 * One CSV file of usage logs, newest first, with the filters of `listUsage`: at most `limit`
 * rows (default and maximum 1000) read by at most `EXPORT_QUERIES` queries. When more logs
 * match, `nextCursor` asks for the next file.
 */
export async function exportUsage(orgId: string, query: UsageExportQuery = {}) {
  const limit = query.limit ?? EXPORT_MAX_ROWS;
  const rows: UsageLog[] = [];
  let cursor = query.cursor ?? null;
  for (let i = 0; i < EXPORT_QUERIES && rows.length < limit; i++) {
    const page = await pageOf(logsQuery(orgId, query), { cursor, limit: limit - rows.length, order: 'desc' });
    rows.push(...(page.data as UsageLog[]));
    cursor = page.cursor;
    if (!cursor) break;
  }
  return { csv: usageCsv(rows), rows: rows.length, nextCursor: cursor };
}
