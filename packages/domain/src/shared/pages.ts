import { ValidationError } from './errors.ts';

/**
 * One page of an ElectroDB query, continuing from a caller's cursor. The cursor is opaque to
 * callers but not trusted: it must name the partition this query reads, and the prefix of its
 * sort keys (a cursor of another organization, user or list is refused, never followed), and
 * a key DynamoDB rejects all the same is a 400 rather than a 500. Shared by the lists of every context (usage, billing, audit, hub).
 */
interface PagedQuery<T> {
  params(): Record<string, unknown>;
  go(options: { cursor: string | null; limit: number; order: 'asc' | 'desc' }): Promise<{ data: T[]; cursor: string | null }>;
}

/** The answer to a cursor that is not a nextCursor of the list it is sent to. */
export const badCursor = () =>
  new ValidationError('The cursor does not continue this list', [
    { path: 'query.cursor', message: 'Use a nextCursor of this list' },
  ]);

/** A cursor as the lists hand them out: base64url JSON (ElectroDB's, and those of lists built in memory). */
export const encodeCursor = (key: Record<string, unknown>) => Buffer.from(JSON.stringify(key)).toString('base64url');

/** The longest start two sort keys share. */
function sharedStart(a: string, b: string) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}

/**
 * The key a cursor of this query must carry: its partition, and the prefix of its sort keys.
 * Under `begins_with` the prefix is the condition's own. Under a range it ends at a composite's
 * label (`$usagelog_1#requestat_`): every row of the range starts with it, and a row of another
 * entity kept in the same partition (a usage log beside the credit ledger) does not, though it
 * may sort inside a range left open at one end.
 */
function boundsOf(query: PagedQuery<unknown>) {
  const params = query.params() as {
    KeyConditionExpression?: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, unknown>;
  };
  const names = params.ExpressionAttributeNames;
  const values = params.ExpressionAttributeValues;
  const condition = params.KeyConditionExpression ?? '';
  const partition = { field: names['#pk']!, value: values[':pk'] };
  if (/begins_with\(#sk1, :sk1\)/.test(condition))
    return { partition, prefix: { field: names['#sk1']!, value: String(values[':sk1']) } };
  if (!/#sk1 (BETWEEN|>=|>|<=|<) :sk1/.test(condition)) return { partition };
  const between = / BETWEEN :sk1 AND :sk2/.test(condition);
  const shared = between ? sharedStart(String(values[':sk1']), String(values[':sk2'])) : String(values[':sk1']);
  // Between two bounds, up to the last label they share (composites fixed before the ranged one
  // included); past one bound alone, up to the first, as a `>=` runs past the composites fixed
  // in it. Never into a bound's value (`2031-03-0…`), which not every row in range starts with.
  const entity = (between ? /^.*#[^#_]*_/ : /^[^#]*#[^#_]*_/).exec(shared)?.[0];
  return { partition, prefix: entity ? { field: names['#sk1']!, value: entity } : undefined };
}

/** A cursor's key; undefined for anything that is not a cursor of ours. */
export function decodeCursor(cursor: string): Record<string, unknown> | undefined {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    return key && typeof key === 'object' && !Array.isArray(key) ? (key as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function pageOf<T>(
  query: PagedQuery<T>,
  options: { cursor?: string | null; limit: number; order: 'asc' | 'desc' },
): Promise<{ data: T[]; cursor: string | null }> {
  const cursor = options.cursor ?? null;
  if (cursor === null) return query.go({ ...options, cursor });
  const { partition, prefix } = boundsOf(query);
  const key = decodeCursor(cursor);
  // Every key attribute of the table is a string: anything else (a number past what DynamoDB
  // takes, which the SDK refuses before sending) was not written by this list.
  if (!key || Object.values(key).some((value) => typeof value !== 'string') || key[partition.field] !== partition.value)
    throw badCursor();
  // Another list kept in the same partition (an organization's members beside its audit events,
  // its usage logs beside its credit ledger).
  if (prefix && !String(key[prefix.field] ?? '').startsWith(prefix.value)) throw badCursor();
  try {
    return await query.go({ ...options, cursor });
  } catch (error) {
    if ((error as { name?: string }).name === 'ValidationException') throw badCursor();
    throw error;
  }
}
