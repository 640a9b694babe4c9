import { TransactGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
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

export type WriteItem =
  | { kind: 'Put'; op: Operation }
  | { kind: 'Update'; op: Operation }
  | { kind: 'Delete'; op: Operation }
  | { kind: 'ConditionCheck'; op: Operation };

export const put = (op: Operation): WriteItem => ({ kind: 'Put', op });
export const update = (op: Operation): WriteItem => ({ kind: 'Update', op });
export const remove = (op: Operation): WriteItem => ({ kind: 'Delete', op });
export const check = (op: Operation): WriteItem => ({ kind: 'ConditionCheck', op });

export interface WriteOutcome {
  /** True when a condition failed: nothing was written. */
  canceled: boolean;
  /** Per item, in order: the reason code (`ConditionalCheckFailed`, `None`, …) when canceled. */
  reasons: string[];
}

const CONFLICT_ATTEMPTS = 6;

/**
 * All or nothing. A failed condition is an outcome (`canceled`), not an exception. A clash
 * with another transaction on the same items is retried with jittered backoff (the SDK does
 * not retry those), then answered 409.
 */
export async function transactWrite(items: WriteItem[]): Promise<WriteOutcome> {
  const TransactItems = items.map(({ kind, op }) => {
    const params = op.params() as Record<string, unknown>;
    if (kind === 'ConditionCheck') {
      const { UpdateExpression: _u, ReturnValues: _r, ...rest } = params;
      return { ConditionCheck: rest };
    }
    const { ReturnValues: _r, ...rest } = params;
    return { [kind]: rest };
  });
  for (let attempt = 1; ; attempt++) {
    try {
      await dynamo().send(new TransactWriteCommand({ TransactItems: TransactItems as never }));
      return { canceled: false, reasons: [] };
    } catch (error) {
      const e = error as { name?: string; CancellationReasons?: Array<{ Code?: string }> };
      if (e.name !== 'TransactionCanceledException') throw error;
      const reasons = (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
      if (reasons.includes('ConditionalCheckFailed')) return { canceled: true, reasons };
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
