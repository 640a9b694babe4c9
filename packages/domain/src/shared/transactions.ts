import { TransactGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { dynamo } from './dynamo.ts';
import { ConflictError } from './errors.ts';

/**
 * Transactions over ElectroDB operations without an ElectroDB Service: a Service builds every
 * entity it holds, while a Lambda should build only those it touches. ElectroDB still
 * composes every key and condition (`.params()`); this only sends them together.
 */
interface Operation {
  params(): Record<string, unknown>;
}

export type WriteItem = {
  kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  op: Operation;
  /** When its condition fails, the item as it is then comes back in `WriteOutcome.items`: no read to learn why. */
  returnOnFailure?: boolean;
};

export const put = (op: Operation): WriteItem => ({ kind: 'Put', op });
export const update = (op: Operation): WriteItem => ({ kind: 'Update', op });
export const remove = (op: Operation): WriteItem => ({ kind: 'Delete', op });
export const check = (op: Operation): WriteItem => ({ kind: 'ConditionCheck', op });
type Checkable = { check(key: object): { where(condition: Condition): Operation } };
/** An ElectroDB `where` callback: the entity's attributes and its operations (`eq`, `exists`, …) to an expression. */
type Condition = (attributes: any, operations: any) => string;

/**
 * The condition `condition` on the item at `key` of `entity`, as an operation (its `.params()`).
 * ElectroDB has `check` on every entity at run time but types it only inside its own transactions.
 */
export const conditionOf = (entity: object, key: object, condition: Condition): Operation =>
  (entity as Checkable).check(key).where(condition);

/** A ConditionCheck of the item at `key` of `entity` (`conditionOf`), to fold into a transaction. */
export const conditionCheck = (entity: object, key: object, condition: Condition): WriteItem =>
  check(conditionOf(entity, key, condition));

/**
 * A ConditionCheck that the item at `key` exists and is not soft-deleted (no `deletedAt`), for
 * the entity whose items carry `key`'s attribute.
 */
export function liveCheck(entity: object, key: Record<string, string>): WriteItem {
  const [id] = Object.keys(key);
  return conditionCheck(
    entity,
    key,
    (attributes, { exists, notExists }) => `${exists(attributes[id!])} AND ${notExists(attributes.deletedAt)}`,
  );
}

/**
 * A ConditionCheck that the item at `key` exists with `attribute` equal to `value` (an API
 * client of this organization, say).
 */
export function matchCheck(entity: object, key: Record<string, string>, attribute: string, value: string): WriteItem {
  return conditionCheck(entity, key, (attributes, { eq }) => eq(attributes[attribute], value));
}

/** The same write, answering the item that failed its condition. */
export const returningOnFailure = (item: WriteItem): WriteItem => ({ ...item, returnOnFailure: true });

export interface WriteOutcome {
  /** True when a condition failed: nothing was written. */
  canceled: boolean;
  /** Per item, in order: the reason code (`ConditionalCheckFailed`, `None`, …) when canceled. */
  reasons: string[];
  /** Per item, in order: the item that failed its condition, for a write `returningOnFailure` (undefined: none). */
  items: Array<Record<string, unknown> | undefined>;
}

const CONFLICT_ATTEMPTS = 6;

/**
 * All or nothing. A failed condition is an outcome (`canceled`), not an exception. A clash
 * with another transaction on the same items is retried with jittered backoff (the SDK does
 * not retry those), then answered 409.
 */
export async function transactWrite(items: WriteItem[]): Promise<WriteOutcome> {
  const TransactItems = items.map(({ kind, op, returnOnFailure }) => {
    const params = op.params() as Record<string, unknown>;
    const onFailure = returnOnFailure ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } : {};
    if (kind === 'ConditionCheck') {
      const { UpdateExpression: _u, ReturnValues: _r, ...rest } = params;
      return { ConditionCheck: { ...rest, ...onFailure } };
    }
    const { ReturnValues: _r, ...rest } = params;
    return { [kind]: { ...rest, ...onFailure } };
  });
  for (let attempt = 1; ; attempt++) {
    try {
      await dynamo().send(new TransactWriteCommand({ TransactItems: TransactItems as never }));
      return { canceled: false, reasons: [], items: [] };
    } catch (error) {
      const e = error as { name?: string; CancellationReasons?: Array<{ Code?: string; Item?: Record<string, never> }> };
      if (e.name !== 'TransactionCanceledException') throw error;
      const reasons = (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
      // The exception is not unmarshalled by the document client: its items are raw attribute values.
      const returned = (e.CancellationReasons ?? []).map((r) => (r.Item ? unmarshall(r.Item) : undefined));
      if (reasons.includes('ConditionalCheckFailed')) return { canceled: true, reasons, items: returned };
      if (!reasons.includes('TransactionConflict')) throw error;
      if (attempt >= CONFLICT_ATTEMPTS) throw new ConflictError('A concurrent change got there first; retry');
      await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** attempt));
    }
  }
}

interface Readable<T> {
  params(): Record<string, unknown>;
  parse(raw: { Item?: Record<string, unknown> }): { data: T | null };
}

/** Reads several items consistently, in one request; each comes back parsed by its entity. */
export async function transactGet<T extends unknown[]>(reads: {
  [K in keyof T]: { op: Operation; entity: Pick<Readable<T[K]>, 'parse'> };
}): Promise<{ [K in keyof T]: T[K] | null }> {
  const out = await dynamo().send(
    new TransactGetCommand({
      TransactItems: reads.map(({ op }) => {
        const { Key, TableName, ProjectionExpression, ExpressionAttributeNames } = op.params() as Record<string, never>;
        return { Get: { Key, TableName, ...(ProjectionExpression ? { ProjectionExpression, ExpressionAttributeNames } : {}) } };
      }),
    }),
  );
  return reads.map(({ entity }, i) => {
    const item = out.Responses?.[i]?.Item;
    return item ? entity.parse({ Item: item }).data : null;
  }) as { [K in keyof T]: T[K] | null };
}
