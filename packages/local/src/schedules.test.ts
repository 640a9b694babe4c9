import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { AsyncStack, HANDLER_TAG } from '../../../infra/async-stack.ts';
import { DataStack } from '../../../infra/data-stack.ts';
import { readConfig } from '../../../infra/config.ts';
import { repoRoot, stateMachinesDir } from '../../../infra/paths.ts';
import { freePort } from './ports.ts';
import { SCHEDULES, UnknownJobError, runJob, runningDevEnvironment } from './schedules.ts';

const run = promisify(execFile);
const temporary: string[] = [];
afterAll(() => temporary.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('the schedules of the CDK app', () => {
  it('are the jobs the local registry knows, with the same targets and inputs', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'platform-schedules-'));
    temporary.push(outdir);
    // cdk.json's context (feature flags) as the CLI passes it: the data stack needs them.
    const cdkJson = JSON.parse(readFileSync(join(repoRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
    const app = new App({ outdir, context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
    const env = { account: '123456789012', region: 'us-east-1' };
    const config = readConfig(app.node);
    const data = new DataStack(app, 'Data', { config, env });
    const stack = new AsyncStack(app, 'Async', { config, env, table: data.table, key: data.key });
    const template = Template.fromStack(stack);
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    const functions = template.findResources('AWS::Lambda::Function');
    const deployed = Object.values(template.findResources('AWS::Scheduler::Schedule')).map((schedule) => {
      const { Arn, Input } = schedule.Properties.Target;
      const input = JSON.parse(Input);
      if (Arn.Ref) return { definition: JSON.parse(machines[Arn.Ref]!.Properties.DefinitionString), input };
      const tags = functions[Arn['Fn::GetAtt'][0]]!.Properties.Tags as { Key: string; Value: string }[];
      return { handler: tags.find((t) => t.Key === HANDLER_TAG)!.Value, input };
    });
    const local = SCHEDULES.map(({ target }) =>
      'handler' in target
        ? { handler: target.handler, input: target.input }
        : {
            definition: JSON.parse(readFileSync(join(stateMachinesDir, `${target.stateMachine}.asl.json`), 'utf8')),
            input: target.input,
          },
    );
    const byInput = (a: { input: unknown }, b: { input: unknown }) =>
      JSON.stringify(a.input).localeCompare(JSON.stringify(b.input));
    expect(local.sort(byInput)).toEqual(deployed.sort(byInput));
    for (const { target } of SCHEDULES)
      if ('handler' in target) expect(existsSync(join(repoRoot, 'functions', `${target.handler}.ts`)), target.handler).toBe(true);
  });
});

describe('runJob', () => {
  it('runs the housekeeping schedule: its state machine with the deployed input', async () => {
    const result = await runJob('housekeeping');
    expect(result).toMatchObject({
      name: 'housekeeping',
      target: 'housekeeping',
      output: { job: 'housekeeping', startedAt: expect.any(String), workItems: 0 },
    });
  });

  it('rejects a name no schedule has', async () => {
    await expect(runJob('nightly')).rejects.toBeInstanceOf(UnknownJobError);
    await expect(runJob('nightly')).rejects.toThrow('Unknown job "nightly". Jobs: housekeeping');
  });
});

describe('the running dev environment', () => {
  function localDir(devInfo: object | string) {
    const dir = mkdtempSync(join(tmpdir(), 'platform-local-'));
    temporary.push(dir);
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'master.key'), 'a-local-key\n');
    writeFileSync(join(dir, 'dev.json'), typeof devInfo === 'string' ? devInfo : JSON.stringify(devInfo));
    return dir;
  }
  const devInfo = (dynamoEndpoint: string) => ({
    apiUrl: 'http://127.0.0.1:3000',
    cognito: { endpoint: 'http://127.0.0.1:9229', region: 'us-east-1', userPoolId: 'us-east-1_LocalDev1', clientId: 'c1' },
    dynamodb: { endpoint: dynamoEndpoint, tableName: 'platform' },
    s3: { endpoint: 'http://127.0.0.1:4566', bucket: 'platform-assets-local' },
  });

  it('is read from dev.json when its DynamoDB answers', async () => {
    const server = createServer((_, res) => res.writeHead(400).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      expect(await runningDevEnvironment(localDir(devInfo(endpoint)))).toMatchObject({
        LOCAL_CLOUD: '1',
        TABLE_NAME: 'platform',
        DYNAMODB_ENDPOINT: endpoint,
        COGNITO_ENDPOINT: 'http://127.0.0.1:9229',
        USER_POOL_ID: 'us-east-1_LocalDev1',
        S3_ENDPOINT: 'http://127.0.0.1:4566',
        ASSETS_BUCKET: 'platform-assets-local',
        LOCAL_MASTER_KEY: 'a-local-key',
      });
    } finally {
      server.close();
    }
  });

  it('is ignored when dev.json is left by a stopped run, or missing, or unreadable', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    expect(await runningDevEnvironment(localDir(devInfo(nobody)))).toBeUndefined();
    expect(await runningDevEnvironment(localDir('{ not json'))).toBeUndefined();
    expect(await runningDevEnvironment(join(tmpdir(), 'no-such-local-dir'))).toBeUndefined();
  });
});

describe('npm run job', () => {
  const job = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', join(repoRoot, 'packages/local/src/bin/job.ts'), ...args], {
      cwd: repoRoot,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('lists the jobs when given no name', async () => {
    const { code, stdout } = await job();
    expect(code).toBe(0);
    expect(stdout).toContain('housekeeping');
    expect(stdout).toContain('npm run job -- <name>');
  });

  it('exits 2 with a message for an unknown job', async () => {
    const { code, stdout, stderr } = await job('nightly');
    expect(code).toBe(2);
    expect(stderr).toContain('Unknown job "nightly". Jobs: housekeeping');
    expect(stdout).toBe('');
  });

  it('runs a job against the running local cloud named by dev.json', async () => {
    const env = inject('cloud').env;
    const dir = mkdtempSync(join(tmpdir(), 'platform-local-'));
    temporary.push(dir);
    writeFileSync(
      join(dir, 'dev.json'),
      JSON.stringify({
        apiUrl: inject('cloud').url,
        cognito: {
          endpoint: env.COGNITO_ENDPOINT,
          region: 'us-east-1',
          userPoolId: env.USER_POOL_ID,
          clientId: env.USER_POOL_CLIENT_ID,
        },
        dynamodb: { endpoint: env.DYNAMODB_ENDPOINT, tableName: env.TABLE_NAME },
      }),
    );
    const { code, stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'packages/local/src/bin/job.ts'), 'housekeeping'],
      { cwd: repoRoot, env: { ...process.env, LOCAL_DIR: dir } },
    ).then(
      (result) => ({ code: 0, ...result }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(stderr).toContain(`Using the running local cloud (${join(dir, 'dev.json')})`);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ job: 'housekeeping', workItems: 0 });
  });
});
