import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHEDULED_JOBS } from '../../infra/jobs.ts';
import { functionsDir, handlerEntry } from '../../infra/paths.ts';
import type { RouteDefinition } from '@platform/http/route';

/**
 * What the bench bundles, grouped as the stacks bundle it (one esbuild run per stack, see
 * infra/constructs/bundles.ts), so each function is measured with the chunks it deploys with.
 */
export function deployedFunctionGroups(routes: readonly RouteDefinition[]): string[][] {
  const entry = (handler: string) => handlerEntry(functionsDir, handler);
  return [
    // api stack: the authorizer and every deployed route's handler
    [entry('identity/authorizer'), ...routes.filter((r) => !r.localOnly).map((r) => entry(r.handler))],
    // auth stack: the post-confirmation trigger
    [entry('identity/post-confirmation')],
    // async stack: the scheduled jobs and the table stream's consumer
    [...SCHEDULED_JOBS.map((job) => entry(job.handler)), entry('streams/billing-notifications')],
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
