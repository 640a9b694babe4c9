import { Duration } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { GATEWAY_TIMEOUT_SECONDS } from '../packages/domain/src/gateway/timeouts.ts';

/**
 * Deployment settings, read once from CDK context (cdk.json `context`, or `-c key=value`).
 * Every switch is listed in `infra/README.md` and at the top of `bin/app.ts`.
 * Values given on the command line arrive as strings, so lists and objects also accept
 * JSON (`-c corsOrigins='["https://app.example.com"]'`) and lists a comma-separated string.
 */
export interface FederationConfig {
  google?: { clientId: string; clientSecretName: string };
  facebook?: { clientId: string; clientSecretName: string; apiVersion?: string };
  apple?: { clientId: string; teamId: string; keyId: string; privateKeySecretName: string };
}

export interface PlatformConfig {
  /** Short stage name (`dev`, `staging`, `prod`): prefixes stack and function names. */
  stage: string;
  /** `prod` keeps data on stack deletion and turns deletion protection on. */
  isProduction: boolean;
  /** `platform-<stage>`: the prefix of every physical name we choose. */
  prefix: string;
  authDomainPrefix: string;
  callbackUrls: string[];
  logoutUrls: string[];
  corsOrigins: string[];
  appUrl: string;
  mailFrom: string;
  /** `cognito` sends Cognito's own mail (50 a day); `ses` sends from `mailFrom` (verified identity required). */
  cognitoEmail: 'cognito' | 'ses';
  /** `plus` turns on Cognito threat protection (compromised credentials, adaptive auth). */
  cognitoFeaturePlan: 'plus' | 'essentials';
  federation: FederationConfig;
  throttling: { burstLimit: number; rateLimit: number };
  logRetention: RetentionDays;
  /** Rate or cron expression of the housekeeping schedule (EventBridge Scheduler syntax). */
  housekeepingSchedule: string;
  /** Schedule of the subscription jobs (renewal, cancellation, trial end and reminder, grace end, expiry). */
  billingJobsSchedule: string;
  /** Schedule of the daily usage aggregation. */
  dailyUsageSchedule: string;
  /** Schedule of the model metrics roll-up (every minute: each run carries the current hour's roll-ups forward to 15 seconds ago). */
  modelMetricsSchedule: string;
  /** Schedule of the sweep of expired credit holds. */
  holdSweepSchedule: string;
  /** Secrets Manager secret holding Stripe's `{ "apiKey": "sk_…", "webhookSecret": "whsec_…" }`. */
  stripeSecretName: string;
  /** `powertools` sets `TRACING=powertools` on every function, adding the Powertools Tracer to Lambda's active tracing. */
  tracing: FunctionTracing;
}

/**
 * `xray`: Lambda's active tracing alone, one segment per invocation. `powertools`: every
 * function also runs the Powertools Tracer (a subsegment for the handler with its cold start
 * and error, never its response, which may hold a secret shown once), at the cold-start cost of
 * the X-Ray SDK it loads.
 */
export type FunctionTracing = 'xray' | 'powertools';

export const APP_NAME = 'platform';

const DEFAULT_LOCAL_APP = 'http://localhost:5173';

type Context = Pick<Node, 'tryGetContext'>;

export function readConfig(node: Context): PlatformConfig {
  const stage = str(node, 'stage') ?? 'dev';
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(stage)) {
    throw new Error(`context "stage" must be lower-case letters, digits and dashes (max 16), got "${stage}"`);
  }
  const isProduction = stage === 'prod';
  const prefix = `${APP_NAME}-${stage}`;
  const corsOrigins = list(node, 'corsOrigins') ?? [DEFAULT_LOCAL_APP];
  const appUrl = str(node, 'appUrl') ?? corsOrigins[0] ?? DEFAULT_LOCAL_APP;

  const authDomainPrefix = str(node, 'authDomainPrefix') ?? `ai-${prefix}`;
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(authDomainPrefix) || authDomainPrefix.includes('cognito')) {
    throw new Error(
      `context "authDomainPrefix" must be lower-case letters, digits and dashes without "cognito", got "${authDomainPrefix}"`,
    );
  }

  const mailFrom = str(node, 'mailFrom') ?? 'no-reply@example.com';
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(mailFrom)) throw new Error(`context "mailFrom" is not an email address: "${mailFrom}"`);

  const throttling = obj(node, 'throttling', ['burstLimit', 'rateLimit']) ?? {};
  const retentionDays = num(node, 'logRetentionDays') ?? (isProduction ? 365 : 30);
  if (!Object.values(RetentionDays).includes(retentionDays as RetentionDays)) {
    throw new Error(`context "logRetentionDays" must be a CloudWatch Logs retention value, got ${retentionDays}`);
  }

  return {
    stage,
    isProduction,
    prefix,
    authDomainPrefix,
    callbackUrls: list(node, 'callbackUrls') ?? [`${appUrl}/auth/callback`],
    logoutUrls: list(node, 'logoutUrls') ?? [`${appUrl}/`],
    corsOrigins,
    appUrl,
    mailFrom,
    cognitoEmail: oneOf(node, 'cognitoEmail', ['cognito', 'ses'] as const) ?? 'cognito',
    cognitoFeaturePlan: oneOf(node, 'cognitoFeaturePlan', ['plus', 'essentials'] as const) ?? 'plus',
    federation: readFederation(node, prefix),
    throttling: {
      burstLimit: positive('throttling.burstLimit', throttling.burstLimit ?? 200),
      rateLimit: positive('throttling.rateLimit', throttling.rateLimit ?? 100),
    },
    logRetention: retentionDays as RetentionDays,
    housekeepingSchedule: str(node, 'housekeepingSchedule') ?? 'rate(1 hour)',
    billingJobsSchedule: str(node, 'billingJobsSchedule') ?? 'rate(1 hour)',
    dailyUsageSchedule: str(node, 'dailyUsageSchedule') ?? 'cron(30 0 * * ? *)',
    modelMetricsSchedule: str(node, 'modelMetricsSchedule') ?? 'rate(1 minute)',
    holdSweepSchedule: str(node, 'holdSweepSchedule') ?? 'rate(5 minutes)',
    stripeSecretName: str(node, 'stripeSecretName') ?? `${prefix}/stripe`,
    tracing: readTracing(node),
  };
}

/**
 * The `tracing` switch. Each PlatformFunction reads it from its own node as well, so that it
 * reaches every function, whichever stack builds it, without being passed along.
 */
export function readTracing(node: Context): FunctionTracing {
  return oneOf(node, 'tracing', ['xray', 'powertools'] as const) ?? 'xray';
}

/**
 * Identity providers are off unless their context object is present. Secrets are never
 * literal: each names a Secrets Manager secret (plain string value) resolved by CloudFormation.
 */
function readFederation(node: Context, prefix: string): FederationConfig {
  const federation: FederationConfig = {};
  const google = obj(node, 'google', ['clientId', 'clientSecretName']);
  if (google) {
    federation.google = {
      clientId: required('google.clientId', google.clientId),
      clientSecretName: optionalString(google.clientSecretName) ?? `${prefix}/google-client-secret`,
    };
  }
  const facebook = obj(node, 'facebook', ['clientId', 'clientSecretName', 'apiVersion']);
  if (facebook) {
    federation.facebook = {
      clientId: required('facebook.clientId', facebook.clientId),
      clientSecretName: optionalString(facebook.clientSecretName) ?? `${prefix}/facebook-app-secret`,
      ...(optionalString(facebook.apiVersion) ? { apiVersion: optionalString(facebook.apiVersion) } : {}),
    };
  }
  const apple = obj(node, 'apple', ['clientId', 'teamId', 'keyId', 'privateKeySecretName']);
  if (apple) {
    federation.apple = {
      clientId: required('apple.clientId', apple.clientId),
      teamId: required('apple.teamId', apple.teamId),
      keyId: required('apple.keyId', apple.keyId),
      privateKeySecretName: optionalString(apple.privateKeySecretName) ?? `${prefix}/apple-private-key`,
    };
  }
  return federation;
}

/** Durations shared by the stacks, named once. */
export const limits = {
  routeTimeout: Duration.seconds(10),
  routeMemoryMb: 512,
  /** Cognito waits 5 s for a trigger (and retries), so the trigger must answer within that. */
  cognitoTriggerTimeout: Duration.seconds(5),
  authorizerTimeout: Duration.seconds(5),
  /** A streamed completion of a large model may take minutes; metering runs after it. */
  gatewayTimeout: Duration.seconds(GATEWAY_TIMEOUT_SECONDS),
  gatewayMemoryMb: 1024,
  jobTimeout: Duration.minutes(5),
  streamWorkerTimeout: Duration.seconds(60),
} as const;

// --- context readers -------------------------------------------------------------------

function raw(node: Context, key: string): unknown {
  const value: unknown = node.tryGetContext(key);
  return value === '' ? undefined : value;
}

function str(node: Context, key: string): string | undefined {
  const value = raw(node, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new Error(`context "${key}" must be a string`);
  return value.trim();
}

function num(node: Context, key: string): number | undefined {
  const value = raw(node, key);
  if (value === undefined || value === null) return undefined;
  const parsed = typeof value === 'string' ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed)) throw new Error(`context "${key}" must be a number`);
  return parsed;
}

function list(node: Context, key: string): string[] | undefined {
  let value = raw(node, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') value = value.trim().startsWith('[') ? JSON.parse(value) : value.split(',');
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`context "${key}" must be a list of strings`);
  }
  const items = value.map((v: string) => v.trim()).filter(Boolean);
  return items.length > 0 ? items : undefined;
}

/** An object setting; a key it does not know is refused rather than dropped (a misspelt name would deploy a default). */
function obj(node: Context, key: string, accepted: readonly string[]): Record<string, unknown> | undefined {
  let value = raw(node, key);
  if (value === undefined || value === null || value === false) return undefined;
  if (typeof value === 'string') value = JSON.parse(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`context "${key}" must be an object`);
  }
  const unknown = Object.keys(value).filter((k) => !accepted.includes(k));
  if (unknown.length) {
    throw new Error(
      `context "${key}" has no setting ${unknown.map((k) => `"${k}"`).join(', ')}; it accepts ${accepted.join(', ')}`,
    );
  }
  return value as Record<string, unknown>;
}

function oneOf<const T extends readonly string[]>(node: Context, key: string, allowed: T): T[number] | undefined {
  const value = str(node, key);
  if (value === undefined) return undefined;
  if (!allowed.includes(value)) throw new Error(`context "${key}" must be one of ${allowed.join(', ')}`);
  return value as T[number];
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

function required(key: string, value: unknown): string {
  const text = optionalString(value);
  if (!text) throw new Error(`context "${key}" is required when that provider is switched on`);
  return text;
}

function positive(key: string, value: unknown): number {
  const parsed = typeof value === 'string' ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new Error(`context "${key}" must be a positive number`);
  }
  return parsed;
}
