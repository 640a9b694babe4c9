import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * DynamoDB requests made while serving one HTTP request, as a route's Lambda would make them.
 * Requests of the authorizer (another Lambda on AWS) and of Idempotency-Key bookkeeping
 * are kept apart, so a route's own cost is what the budget judges.
 */
export interface RequestRecord {
  routeId: string;
  dynamoRequests: string[];
  authorizerRequests: string[];
  idempotencyRequests: string[];
  /** Set while the authorizer runs. */
  inAuthorizer?: boolean;
}

/** Idempotency records are keyed `$platform#scope_…` by ElectroDB (see packages/http/src/idempotency.ts). */
const isIdempotencyKey = (input: { Key?: { pk?: unknown }; Item?: { pk?: unknown } }) =>
  String(input.Key?.pk ?? input.Item?.pk ?? '').startsWith('$platform#scope_');

export const currentRequest = new AsyncLocalStorage<RequestRecord>();

const installed = new WeakSet<object>();

/** Counts every command the client sends, per HTTP request being served. */
export function recordDynamoRequests(client: DynamoDBDocumentClient) {
  if (installed.has(client)) return;
  installed.add(client);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const record = currentRequest.getStore();
      if (record) {
        const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        const list = record.inAuthorizer
          ? record.authorizerRequests
          : isIdempotencyKey(args.input as never)
            ? record.idempotencyRequests
            : record.dynamoRequests;
        list.push(operation);
      }
      return next(args);
    },
    { step: 'initialize', name: 'localRequestRecorder' },
  );
}
