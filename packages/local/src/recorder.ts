import { AsyncLocalStorage } from 'node:async_hooks';
import type { DocumentClient } from '@platform/domain/shared/documents';

/**
 * DynamoDB requests made while serving one HTTP request, as a route's Lambda would make them.
 * Requests of the authorizer (another Lambda on AWS), of Idempotency-Key bookkeeping and of
 * limit counters are kept apart, so a route's own cost is what the budget judges.
 */
export interface RequestRecord {
  routeId: string;
  dynamoRequests: string[];
  authorizerRequests: string[];
  idempotencyRequests: string[];
  limitRequests: string[];
  /** Set while the authorizer runs. */
  inAuthorizer?: boolean;
}

type Input = {
  Key?: { pk?: unknown };
  Item?: { pk?: unknown };
  TransactItems?: Array<Record<string, { Key?: { pk?: unknown } }>>;
  ExpressionAttributeValues?: Record<string, unknown>;
};
const pkOf = (input: Input) =>
  String(input.Key?.pk ?? input.Item?.pk ?? Object.values(input.TransactItems?.[0] ?? {})[0]?.Key?.pk ?? '');

/**
 * Bookkeeping that is not the route's own work, recognised by ElectroDB's keys: idempotency
 * records (`$platform#scope_…`), limit counters (`$platform#subject_…`) and the plan catalogue.
 */
function bookkeeping(input: Input): 'idempotency' | 'limits' | undefined {
  const pk = pkOf(input);
  if (pk.startsWith('$platform#scope_')) return 'idempotency';
  if (pk.startsWith('$platform#subject_')) return 'limits';
  const values = input.ExpressionAttributeValues ?? {};
  if (values[':pk'] === '$platform' && String(values[':sk1'] ?? '').startsWith('$plan_')) return 'limits';
  return undefined;
}

export const currentRequest = new AsyncLocalStorage<RequestRecord>();

const installed = new WeakSet<object>();

/** Counts every command the client sends, per HTTP request being served. */
export function recordDynamoRequests(client: DocumentClient) {
  if (installed.has(client)) return;
  installed.add(client);
  client.observe(({ operation, input }) => {
    const record = currentRequest.getStore();
    if (!record) return;
    const kind = bookkeeping(input as Input);
    const list = record.inAuthorizer
      ? record.authorizerRequests
      : kind === 'idempotency'
        ? record.idempotencyRequests
        : kind === 'limits'
          ? record.limitRequests
          : record.dynamoRequests;
    list.push(operation);
  });
}
