import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import type { RouteDefinition } from '@platform/http/route';
import { startLocalCognito, type LocalCognito, type Outbox } from './cognito/index.ts';
import { ensureTable, startDynamoLocal, type LocalDynamo } from './dynamodb.ts';
import { LocalQueues } from './queues.ts';
import type { RequestRecord } from './recorder.ts';
import type { LocalS3 } from './s3.ts';
import { startLocalServer } from './server.ts';
import type { LocalStream } from './streams.ts';
import type { LocalStripe } from './stripe.ts';

/**
 * The local Stripe's secrets: fixed, so that `.local/dev.json` can tell them and a signed
 * test webhook can be sent with curl. Local only: a deployed stage reads its own from
 * Secrets Manager (STRIPE_SECRET_ID).
 */
export const LOCAL_STRIPE_WEBHOOK_SECRET = 'whsec_local_development_only';
export const LOCAL_STRIPE_API_KEY = 'sk_test_local_development_only';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface LocalCloudOptions {
  /** API port; 0 picks a free one. */
  port?: number;
  /** Keep DynamoDB, Cognito and the local key here between runs (dev); in memory when absent (tests). */
  persistDir?: string;
  seed?: boolean;
  /** Records the DynamoDB requests behind each API request (the test harness); see LocalServerOptions. */
  onRequest?: (record: RequestRecord & { method: string; path: string; status: number }) => void;
}

export interface LocalCloud {
  url: string;
  tableName: string;
  dynamo: LocalDynamo;
  cognito: LocalCognito;
  /** S3 (fauxqs) with the assets bucket; in memory, even in dev. */
  s3: LocalS3;
  /** SQS with its Lambda triggers, in process: workers `register` here. */
  queues: LocalQueues;
  /** The local Stripe (API and webhooks), unless STRIPE_API_BASE pointed elsewhere. */
  stripe: { apiBase: string; webhookUrl: string; webhookSecret: string };
  /** The table's stream feeding billing's notifications and API client departures, as the deployed mappings do. */
  stream: LocalStream;
  outbox: Outbox;
  routes: RouteDefinition[];
  demo?: DemoData;
  /** Resolves once the API has no invocation running, the work handlers do after answering included. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export interface DemoData {
  admin: { email: string; password: string };
  user: { email: string; password: string };
  teamOrgId: string;
}

function masterKey(persistDir?: string): string {
  if (!persistDir) return randomBytes(32).toString('base64');
  const file = join(persistDir, 'master.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/**
 * The whole platform on one machine: DynamoDB Local, embedded Cognito, the local mail outbox
 * and the API served from the route manifest. Sets the same environment variables the
 * Lambda functions get on AWS, with local endpoints.
 */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const tableName = process.env.TABLE_NAME ?? 'platform';
  if (options.persistDir) mkdirSync(join(options.persistDir, 'dynamodb'), { recursive: true });
  Object.assign(process.env, {
    LOCAL_CLOUD: '1',
    AWS_REGION: 'us-east-1',
    TABLE_NAME: tableName,
    LOCAL_MASTER_KEY: masterKey(options.persistDir),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
  });

  // S3 starts while DynamoDB Local's JVM does (it takes milliseconds); neither outlives a failed start.
  const s3Starting = import('./s3.ts').then(({ startLocalS3 }) => startLocalS3());
  s3Starting.catch(() => undefined); // handled below, once DynamoDB Local is up
  const dynamo = await startDynamoLocal({ dbPath: options.persistDir ? join(options.persistDir, 'dynamodb') : undefined }).catch(
    async (error) => {
      await s3Starting.then(
        (started) => started.stop(),
        () => undefined,
      );
      throw error;
    },
  );
  const s3 = await s3Starting.catch(async (error) => {
    await dynamo.stop();
    throw error;
  });
  Object.assign(process.env, { S3_ENDPOINT: s3.endpoint, ASSETS_BUCKET: s3.bucket });
  const queues = new LocalQueues();
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  await ensureTable(dynamo.endpoint, tableName);

  let apiUrl: string | undefined;
  let localStripe: LocalStripe | undefined;
  if (!process.env.STRIPE_API_BASE) {
    const { startLocalStripe } = await import('./stripe.ts');
    localStripe = await startLocalStripe({
      apiKey: LOCAL_STRIPE_API_KEY,
      webhookSecret: LOCAL_STRIPE_WEBHOOK_SECRET,
      webhookUrl: () => apiUrl && `${apiUrl}/v1/webhooks/stripe`,
    });
    Object.assign(process.env, {
      STRIPE_API_BASE: localStripe.url,
      STRIPE_API_KEY: LOCAL_STRIPE_API_KEY,
      STRIPE_WEBHOOK_SECRET: LOCAL_STRIPE_WEBHOOK_SECRET,
    });
  }

  const functionsDir = join(REPO_ROOT, 'functions');
  const postConfirmation = async (event: PostConfirmationTriggerEvent) => {
    const module = await import(pathToFileURL(join(functionsDir, 'identity/post-confirmation.ts')).href);
    return module.handler(event);
  };
  const cognito = await startLocalCognito({
    dataDir: options.persistDir ? join(options.persistDir, 'cognito') : undefined,
    postConfirmation,
    quiet: true,
  });
  Object.assign(process.env, {
    COGNITO_ENDPOINT: cognito.endpoint,
    USER_POOL_ID: cognito.userPoolId,
    USER_POOL_CLIENT_ID: cognito.clientId,
    COGNITO_JWKS: JSON.stringify(cognito.jwks),
  });

  // Only now, with the environment in place, load the modules that read it.
  const [{ dynamo: documentClient }, { setMailTransport }, { recordDynamoRequests }, { routes }] = await Promise.all([
    import('@platform/domain/shared/dynamo'),
    import('@platform/domain/shared/mail'),
    import('./recorder.ts'),
    import('@platform/api/manifest'),
  ]);
  if (options.onRequest) recordDynamoRequests(documentClient());
  const outbox = cognito.outbox;
  setMailTransport(async (mail) => {
    outbox.add(mail);
  });
  (globalThis as { __localOutbox?: Outbox }).__localOutbox = outbox;

  const server = await startLocalServer({
    routes,
    functionsDir,
    port: options.port ?? 0,
    cognito: { userPoolId: cognito.userPoolId, clientId: cognito.clientId, jwks: cognito.jwks },
    onRequest: options.onRequest,
  });
  process.env.APP_URL = server.url;
  apiUrl = server.url;

  const [{ startLocalStream }, { BILLING_STREAM_FILTER }, { DEPARTURE_STREAM_FILTERS }] = await Promise.all([
    import('./streams.ts'),
    import('@platform/domain/billing/notifications'),
    import('@platform/domain/identity/departures'),
  ]);
  const consumer = async (module: string, filters: readonly object[]) => {
    const { handler } = await import(pathToFileURL(join(functionsDir, `streams/${module}.ts`)).href);
    return { filters, handler: (records: unknown[]) => handler({ Records: records }) };
  };
  const stream = await startLocalStream({
    endpoint: dynamo.endpoint,
    tableName,
    consumers: await Promise.all([
      consumer('billing-notifications', [BILLING_STREAM_FILTER]),
      consumer('api-client-departures', DEPARTURE_STREAM_FILTERS),
    ]),
  });

  const cloud: LocalCloud = {
    url: server.url,
    tableName,
    dynamo,
    cognito,
    s3,
    queues,
    stripe: {
      apiBase: process.env.STRIPE_API_BASE!,
      webhookUrl: `${server.url}/v1/webhooks/stripe`,
      webhookSecret: process.env.STRIPE_WEBHOOK_SECRET ?? '',
    },
    stream,
    outbox,
    routes,
    settled: server.settled,
    stop: async () => {
      await server.close();
      queues.stop();
      await stream.stop();
      await Promise.allSettled([cognito.stop(), dynamo.stop(), s3.stop(), localStripe?.stop()]);
    },
  };
  if (options.seed) cloud.demo = await (await import('./seed.ts')).seedDemoData(cloud);
  return cloud;
}
