import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SCHEDULED_JOBS } from '../../../infra/jobs.ts';
import { functionsDir } from '../../../infra/paths.ts';
import { localLambdaContext } from './lambda-context.ts';
import { runStateMachine, type LocalFunction, type StateMachineOverrides } from './state-machines.ts';

type Json = Parameters<typeof runStateMachine>[1];

/**
 * One EventBridge schedule of the CDK app, runnable by name. Locally `npm run job -- <name>`
 * and tests start the target when they choose; only `model-metrics` also fires on a clock, in
 * `npm run dev` (every minute, as on AWS).
 */
export interface LocalSchedule {
  name: string;
  description: string;
  /** The construct that deploys it, for the reader. */
  deployedBy: string;
  /** What the schedule starts (a state machine, or a function by its handler module), with the input its target is deployed with. */
  target: { stateMachine: string; input: Json } | { handler: string; input: Json };
  /** The in-process Lambda functions the target's Task states invoke (see `runStateMachine`). */
  functions?: () => Promise<Record<string, LocalFunction>>;
}

/** Mirrors the `AWS::Scheduler::Schedule`s of `infra/async-stack.ts`; `schedules.test.ts` checks it against the synthesized stack. */
export const SCHEDULES: readonly LocalSchedule[] = [
  {
    name: 'housekeeping',
    description: 'Periodic housekeeping: records the run; sweeps are added as Task states of its state machine.',
    deployedBy: 'AsyncStack/HousekeepingSchedule (every `housekeepingSchedule` of the CDK context)',
    target: { stateMachine: 'housekeeping', input: { job: 'housekeeping' } },
  },
  ...SCHEDULED_JOBS.map((job) => ({
    name: job.name,
    description: job.description,
    deployedBy: `AsyncStack/${job.name} job function and schedule (every \`${job.schedule}\` of the CDK context)`,
    target: { handler: job.handler, input: { job: job.name } },
  })),
];

export class UnknownJobError extends Error {
  override name = 'UnknownJobError';
  constructor(readonly job: string) {
    super(`Unknown job "${job}". Jobs: ${SCHEDULES.map((s) => s.name).join(', ')}`);
  }
}

export function findJob(name: string): LocalSchedule | undefined {
  return SCHEDULES.find((schedule) => schedule.name === name);
}

export interface JobRun {
  name: string;
  /** The state machine or the handler module that ran. */
  target: string;
  output: Json;
  durationMs: number;
}

/**
 * Does what the schedule does when it fires: starts its target with the deployed input,
 * here in this process, against the environment already set (a running local cloud).
 * `overrides` reach the state machine run (tests replace tasks or functions with them).
 */
export async function runJob(name: string, overrides: StateMachineOverrides = {}): Promise<JobRun> {
  const schedule = findJob(name);
  if (!schedule) throw new UnknownJobError(name);
  const started = Date.now();
  const { target } = schedule;
  if ('handler' in target) {
    const module = (await import(pathToFileURL(join(functionsDir, `${target.handler}.ts`)).href)) as {
      handler: (event: Json, context: ReturnType<typeof localLambdaContext>) => Promise<Json>;
    };
    const output = await module.handler(
      target.input,
      localLambdaContext(`job-${name}`, process.env.AWS_REGION ?? 'us-east-1', 300_000),
    );
    return { name, target: target.handler, output, durationMs: Date.now() - started };
  }
  const functions = { ...(await schedule.functions?.()), ...overrides.functions };
  const output = await runStateMachine(target.stateMachine, target.input, { ...overrides, functions });
  return { name, target: target.stateMachine, output, durationMs: Date.now() - started };
}

/** The parts of `.local/dev.json` (written by `npm run dev`) a job needs. */
interface DevInfo {
  apiUrl: string;
  cognito: { endpoint: string; region: string; userPoolId: string; clientId: string };
  dynamodb: { endpoint: string; tableName: string };
  s3?: { endpoint: string; bucket: string };
}

/**
 * The environment of the running `npm run dev`, read from `<localDir>/dev.json`, or
 * undefined when there is none or it no longer answers (a file left by a stopped run).
 * The local master key is read from `<localDir>/data/master.key`, where dev keeps it.
 */
export async function runningDevEnvironment(localDir: string): Promise<Record<string, string> | undefined> {
  const file = join(localDir, 'dev.json');
  if (!existsSync(file)) return undefined;
  let info: DevInfo;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as DevInfo;
  } catch {
    return undefined;
  }
  if (!info.dynamodb?.endpoint || !(await answers(info.dynamodb.endpoint))) return undefined;
  const keyFile = join(localDir, 'data', 'master.key');
  return {
    LOCAL_CLOUD: '1',
    AWS_REGION: info.cognito?.region ?? 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    APP_URL: info.apiUrl,
    TABLE_NAME: info.dynamodb.tableName,
    DYNAMODB_ENDPOINT: info.dynamodb.endpoint,
    ...(info.cognito
      ? {
          COGNITO_ENDPOINT: info.cognito.endpoint,
          USER_POOL_ID: info.cognito.userPoolId,
          USER_POOL_CLIENT_ID: info.cognito.clientId,
        }
      : {}),
    ...(info.s3 ? { S3_ENDPOINT: info.s3.endpoint, ASSETS_BUCKET: info.s3.bucket } : {}),
    ...(existsSync(keyFile) ? { LOCAL_MASTER_KEY: readFileSync(keyFile, 'utf8').trim() } : {}),
  };
}

/** Anything listening and speaking HTTP counts: DynamoDB Local answers `GET /` with 400. */
async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(1500) });
    return true;
  } catch {
    return false;
  }
}
