import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** DynamoDB requests made while serving one HTTP request: the end-to-end suites read these. */
export interface RequestRecord {
  routeId: string;
  dynamoRequests: string[];
}

export const currentRequest = new AsyncLocalStorage<RequestRecord>();

const installed = new WeakSet<object>();

/** Counts every command the client sends, per HTTP request being served. */
export function recordDynamoRequests(client: DynamoDBDocumentClient) {
  if (installed.has(client)) return;
  installed.add(client);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      currentRequest.getStore()?.dynamoRequests.push(String(context.commandName ?? 'unknown').replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'localRequestRecorder' },
  );
}
