import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { REPO_ROOT, startLocalCloud } from '@platform/local/cloud';
import { DYNAMO_BUDGET, OVER_BUDGET } from './budget.ts';

interface RouteCost {
  max: number;
  operations: Set<string>;
}

/**
 * One local cloud for the whole run: DynamoDB Local, Cognito and the API on free ports.
 * It records the DynamoDB requests of every API request; at the end it writes them to
 * test/.out/dynamodb-requests.json for `npm run bench`. The api() helper fails the test that
 * makes a request past the budget or behind a Scan (vitest does not fail a run on teardown errors).
 */
export default async function setup(project: TestProject) {
  const costs = new Map<string, RouteCost>();
  const scans: string[] = [];
  const note = (key: string, operations: string[]) => {
    const cost = costs.get(key) ?? { max: 0, operations: new Set<string>() };
    cost.max = Math.max(cost.max, operations.length);
    operations.forEach((op) => cost.operations.add(op));
    costs.set(key, cost);
  };
  const cloud = await startLocalCloud({
    port: 0,
    onRequest: (record) => {
      note(record.routeId, record.dynamoRequests);
      if (record.authorizerRequests.length) note('(authorizer)', record.authorizerRequests);
      if (process.env.DEBUG_ROUTE === record.routeId) console.log(record.routeId, record.status, record.dynamoRequests.join(','));
      const all = [...record.dynamoRequests, ...record.authorizerRequests, ...record.idempotencyRequests];
      if (all.includes('Scan')) scans.push(`${record.method} ${record.path}`);
    },
  });
  project.provide('cloud', {
    url: cloud.url,
    env: {
      LOCAL_CLOUD: '1',
      AWS_REGION: 'us-east-1',
      TABLE_NAME: cloud.tableName,
      DYNAMODB_ENDPOINT: cloud.dynamo.endpoint,
      S3_ENDPOINT: cloud.s3.endpoint,
      ASSETS_BUCKET: cloud.s3.bucket,
      COGNITO_ENDPOINT: cloud.cognito.endpoint,
      USER_POOL_ID: cloud.cognito.userPoolId,
      USER_POOL_CLIENT_ID: cloud.cognito.clientId,
      COGNITO_JWKS: JSON.stringify(cloud.cognito.jwks),
      LOCAL_MASTER_KEY: process.env.LOCAL_MASTER_KEY!,
      STRIPE_API_BASE: cloud.stripe.apiBase,
      STRIPE_API_KEY: process.env.STRIPE_API_KEY!,
      STRIPE_WEBHOOK_SECRET: cloud.stripe.webhookSecret,
    },
  });

  return async () => {
    await cloud.stop();
    if (!costs.size) return;
    const routes = Object.fromEntries(
      [...costs.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([r, c]) => [r, { max: c.max, operations: [...c.operations].sort() }]),
    );
    const judged = [...costs.entries()].filter(([route]) => !(route in OVER_BUDGET) && route !== '(authorizer)');
    const worst = judged.reduce((a, b) => (b[1].max > a[1].max ? b : a));
    const dir = join(REPO_ROOT, 'test/.out');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'dynamodb-requests.json'),
      JSON.stringify(
        {
          recordedAt: new Date().toISOString(),
          budget: DYNAMO_BUDGET,
          overBudget: OVER_BUDGET,
          maxPerRoute: worst[1].max,
          worstRoute: worst[0],
          scans: scans.length,
          routes,
        },
        null,
        2,
      ),
    );
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    cloud: { url: string; env: Record<string, string> };
  }
}
