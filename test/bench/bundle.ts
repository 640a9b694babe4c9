import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHEDULED_JOBS, STREAM_HANDLERS } from '../../infra/jobs.ts';
import { functionsDir, handlerEntry } from '../../infra/paths.ts';
import type { RouteDefinition } from '@platform/http/route';

/**
 * Every function the stacks deploy: the authorizer, each deployed route's handler, the Cognito
 * trigger, the scheduled jobs and the stream consumers.
 */
export function deployedFunctions(routes: readonly RouteDefinition[]): string[] {
  const entry = (handler: string) => handlerEntry(functionsDir, handler);
  return [
    ...new Set([
      entry('identity/authorizer'),
      ...routes.filter((r) => !r.localOnly).map((r) => entry(r.handler)),
      entry('identity/post-confirmation'),
      ...SCHEDULED_JOBS.map((job) => entry(job.handler)),
      ...STREAM_HANDLERS.map(entry),
    ]),
  ];
}

/** The baseline: a handler that only builds a DynamoDB client, at init. */
export function writeBareHandler(dir: string) {
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, 'bare.ts');
  writeFileSync(
    entry,
    `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
const client = new DynamoDBClient({});
export const handler = async () => ({ statusCode: 200, body: String(Boolean(client)) });
`,
  );
  return entry;
}

/**
 * The baseline of a cold request: a handler that builds a DynamoDB client at init and sends one
 * GetItem per call (the work of `GET /v1/me` without the platform around it).
 */
export function writeBareGetItemHandler(dir: string) {
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, 'bare-get-item.ts');
  writeFileSync(
    entry,
    `import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
const endpoint = process.env.DYNAMODB_ENDPOINT;
const client = new DynamoDBClient(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {});
export const handler = async () => {
  const { Item } = await client.send(new GetItemCommand({ TableName: process.env.TABLE_NAME, Key: { pk: { S: 'bench' }, sk: { S: 'bench' } } }));
  return { statusCode: 200, body: String(Boolean(Item)) };
};
`,
  );
  return entry;
}
