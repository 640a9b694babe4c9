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
 * The floor under every function: the bare handler plus the libraries ARCHITECTURE.md and the
 * foundation issue fix for every handler, each step adding some, and no code of ours. Each
 * library is loaded and used the least a function uses it at init: middy wraps the handler,
 * Powertools builds its logger and metrics, zod builds one schema; ElectroDB is loaded (a
 * function builds its entities on first use, not at init).
 */
export const STACK_STEPS = [
  {
    name: '+ lib-dynamodb, middy, Powertools logger and metrics',
    imports: [
      "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
      "import middy from '@middy/core';",
      "import { Logger } from '@aws-lambda-powertools/logger';",
      "import { Metrics } from '@aws-lambda-powertools/metrics';",
    ],
    init: ['const logger = new Logger();', "const metrics = new Metrics({ namespace: 'bench' });"],
    uses: ['DynamoDBDocumentClient', 'logger', 'metrics'],
  },
  {
    name: '+ zod',
    imports: ["import * as z from 'zod';"],
    init: ['const schema = z.object({ id: z.uuid(), name: z.string().trim().min(1).max(100).optional() }).strict();'],
    uses: ['schema'],
  },
  {
    name: '+ ElectroDB',
    imports: ["import { Entity } from 'electrodb';"],
    init: [],
    uses: ['Entity'],
  },
] as const;

/**
 * What the floor would be with zod's tree-shakable build instead (a decision for the team: the
 * schemas would be written in its functional style, `z.optional(z.string().check(z.maxLength(9)))`).
 */
const ZOD_MINI = {
  name: 'zod/mini in place of zod',
  imports: ["import * as z from 'zod/mini';"],
  init: [
    'const schema = z.strictObject({ id: z.uuid(), name: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(100))) });',
  ],
  uses: ['schema'],
};

type Step = { name: string; imports: readonly string[]; init: readonly string[]; uses: readonly string[] };

/**
 * The handlers of the floor: one per step of `STACK_STEPS`, each with every step before it, then
 * the whole floor with zod/mini in place of zod (`alternative`).
 */
export function writeStackHandlers(dir: string): { name: string; entry: string; alternative: boolean }[] {
  mkdirSync(dir, { recursive: true });
  const write = (file: string, steps: readonly Step[]) => {
    const entry = join(dir, file);
    writeFileSync(
      entry,
      [
        "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
        ...steps.flatMap((s) => s.imports),
        'const client = new DynamoDBClient({});',
        ...steps.flatMap((s) => s.init),
        `const used = [client, ${steps.flatMap((s) => s.uses).join(', ')}];`,
        'export const handler = middy(async () => ({ statusCode: 200, body: String(used.every(Boolean)) }));',
        '',
      ].join('\n'),
    );
    return entry;
  };
  const ladder = STACK_STEPS.map((step, i) => ({
    name: step.name,
    entry: write(`stack-${i + 1}.ts`, STACK_STEPS.slice(0, i + 1)),
    alternative: false,
  }));
  const withMini = STACK_STEPS.map((step) => (step.name === '+ zod' ? ZOD_MINI : step));
  return [...ladder, { name: `the floor with ${ZOD_MINI.name}`, entry: write('stack-zod-mini.ts', withMini), alternative: true }];
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
