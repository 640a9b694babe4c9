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

/** The key a cursor of this query must carry: its partition, and its sort key prefix when it reads one entity's rows. */
function boundsOf(query: PagedQuery<unknown>) {
  const params = query.params() as {
    KeyConditionExpression?: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, unknown>;
  };
  const names = params.ExpressionAttributeNames;
  const values = params.ExpressionAttributeValues;
  const prefixed = /begins_with\(#sk1, :sk1\)/.test(params.KeyConditionExpression ?? '');
  return {
    partition: { field: names['#pk']!, value: values[':pk'] },
    prefix: prefixed ? { field: names['#sk1']!, value: String(values[':sk1']) } : undefined,
  };
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
  // Another list kept in the same partition (an organization's members beside its audit events).
  if (prefix && !String(key[prefix.field] ?? '').startsWith(prefix.value)) throw badCursor();
  try {
    return await query.go({ ...options, cursor });
  } catch (error) {
    if ((error as { name?: string }).name === 'ValidationException') throw badCursor();
    throw error;
  }
}
