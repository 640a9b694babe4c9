import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { stateMachinesDir } from '../../infra/paths.ts';
import { SCHEDULED_JOBS } from '../../infra/jobs.ts';
import { BILLING_STREAM_FILTER } from '@platform/domain/billing/notifications';
import { DEPARTURE_STREAM_FILTERS } from '@platform/domain/identity/departures';
import { fixtureFunctionsDir, fixtureRoutes } from './fixtures/routes.ts';
import { synthPlatform, type CfnResource, type Synthesized } from './synth.ts';

let dev: Synthesized;
beforeAll(() => {
  dev = synthPlatform({
    routes: fixtureRoutes,
    functionsDir: fixtureFunctionsDir,
    context: { housekeepingSchedule: 'rate(15 minutes)' },
  });
});

const queues = () => Object.entries(dev.async.findResources('AWS::SQS::Queue')) as [string, CfnResource][];
const workQueue = () => queues().find(([, q]) => q.Properties.RedrivePolicy)!;

describe('the work queue', () => {
  it('sends a message to its dead-letter queue after five receives', () => {
    const [, queue] = workQueue();
    const dlq = queue.Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0];
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
    expect(dev.async.findResources('AWS::SQS::Queue')[dlq]).toBeDefined();
  });

  it('encrypts every queue and refuses requests without TLS', () => {
    for (const [id, queue] of queues()) {
      expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
      dev.async.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });
});

describe('the housekeeping state machine', () => {
  const machine = () => Object.values(dev.async.findResources('AWS::StepFunctions::StateMachine'))[0] as CfnResource;

  it('is deployed from the ASL file the local cloud runs', () => {
    const asl = JSON.parse(readFileSync(join(stateMachinesDir, 'housekeeping.asl.json'), 'utf8'));
    expect(JSON.parse(machine().Properties.DefinitionString)).toEqual(asl);
    expect(asl.QueryLanguage).toBe('JSONPath');
  });

  it('logs every event and traces with X-Ray', () => {
    expect(machine().Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
  });

  it('is started by an EventBridge schedule, with retries and a dead-letter queue', () => {
    const machineId = dev.async.getResourceId('AWS::StepFunctions::StateMachine');
    dev.async.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { Ref: machineId },
        Input: JSON.stringify({ job: 'housekeeping' }),
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 3 }),
        DeadLetterConfig: { Arn: Match.anyValue() },
      }),
    });
  });
});

describe('the scheduled jobs', () => {
  const functions = () => dev.async.findResources('AWS::Lambda::Function') as Record<string, CfnResource>;
  const schedules = () => Object.values(dev.async.findResources('AWS::Scheduler::Schedule')) as CfnResource[];

  it('are one function and one EventBridge schedule each, invoking it with the job’s name, with retries and a DLQ', () => {
    for (const job of SCHEDULED_JOBS) {
      const [id] = Object.entries(functions()).find(([, fn]) => fn.Properties.FunctionName === `platform-dev-job-${job.name}`)!;
      const schedule = schedules().find(
        (s) => JSON.stringify(s.Properties.Target.Arn) === JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] }),
      );
      expect(schedule, job.name).toBeDefined();
      expect(schedule!.Properties).toMatchObject({
        ScheduleExpression:
          {
            dailyUsageSchedule: 'cron(30 0 * * ? *)',
            modelMetricsSchedule: 'rate(1 minute)',
            holdSweepSchedule: 'rate(5 minutes)',
          }[job.schedule as string] ?? 'rate(1 hour)',
        State: 'ENABLED',
        Target: {
          Input: JSON.stringify({ job: job.name }),
          RetryPolicy: { MaximumRetryAttempts: 3 },
          DeadLetterConfig: { Arn: expect.anything() },
        },
      });
    }
  });

  it('that throw are retried once by Lambda, then sent with their error to a queue of their own', () => {
    const configs = Object.values(dev.async.findResources('AWS::Lambda::EventInvokeConfig')) as CfnResource[];
    for (const job of SCHEDULED_JOBS) {
      const [id] = Object.entries(functions()).find(([, fn]) => fn.Properties.FunctionName === `platform-dev-job-${job.name}`)!;
      const config = configs.find((c) => JSON.stringify(c.Properties.FunctionName) === JSON.stringify({ Ref: id }));
      expect(config?.Properties, job.name).toMatchObject({
        MaximumRetryAttempts: 1,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^JobFailureQueue/), 'Arn'] } } },
      });
    }
  });

  it('reach the table with item actions only (no Scan)', () => {
    const policies = Object.values(dev.async.findResources('AWS::IAM::Policy')) as CfnResource[];
    const actions = policies.flatMap((p) =>
      p.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat()),
    );
    expect(actions).toContain('dynamodb:Query');
    expect(actions).not.toContain('dynamodb:Scan');
  });
});

describe('the table’s stream consumers', () => {
  it.each([
    ['billing notifications: only credit accounts, subscriptions and payments', [BILLING_STREAM_FILTER]],
    ['API client departures: only memberships and deleted users', DEPARTURE_STREAM_FILTERS],
  ])('%s, retrying from a failed record', (_, filters) => {
    dev.async.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'LATEST',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      FilterCriteria: { Filters: filters.map((filter) => ({ Pattern: JSON.stringify(filter) })) },
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });
});
