import { ValidationError } from './errors.ts';

/**
 * One page of an ElectroDB query, continuing from a caller's cursor. The cursor is opaque to
 * callers but not trusted: it must name the partition this query reads (a cursor of another
 * organization, user or list is refused, never followed), and a key DynamoDB rejects is a
 * 400 rather than a 500. Shared by the lists of every context (usage, billing, audit, hub).
 */
interface PagedQuery<T> {
  params(): Record<string, unknown>;
  go(options: { cursor: string | null; limit: number; order: 'asc' | 'desc' }): Promise<{ data: T[]; cursor: string | null }>;
}

const badCursor = () =>
  new ValidationError('The cursor does not continue this list', [
    { path: 'query.cursor', message: 'Use a nextCursor of this list' },
  ]);

function partitionOf(query: PagedQuery<unknown>) {
  const params = query.params() as {
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, unknown>;
  };
  return { field: params.ExpressionAttributeNames['#pk']!, value: params.ExpressionAttributeValues[':pk'] };
}

function decode(cursor: string): Record<string, unknown> | undefined {
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
  const { field, value } = partitionOf(query);
  if (decode(cursor)?.[field] !== value) throw badCursor();
  try {
    return await query.go({ ...options, cursor });
  } catch (error) {
    const cause = (error as { cause?: { name?: string } }).cause;
    if (cause?.name === 'ValidationException') throw badCursor();
    throw error;
  }
}
