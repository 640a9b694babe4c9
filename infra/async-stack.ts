import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { PlatformConfig } from './config.ts';
import { acknowledge } from './constructs/nag.ts';
import { stateMachinesDir } from './paths.ts';

export interface AsyncStackProps extends StackProps {
  config: PlatformConfig;
}

/** Asynchronous work: the work queue and its DLQ, and the periodic housekeeping pipeline. */
export class AsyncStack extends Stack {
  readonly workQueue: Queue;
  readonly workDeadLetterQueue: Queue;
  readonly housekeeping: StateMachine;
  readonly housekeepingSchedule: Schedule;

  constructor(scope: Construct, id: string, props: AsyncStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.workDeadLetterQueue = new Queue(this, 'WorkDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.workQueue = new Queue(this, 'WorkQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the longest worker timeout the platform plans (10 s) plus batching window.
      visibilityTimeout: Duration.seconds(90),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.workDeadLetterQueue, maxReceiveCount: 5 },
    });

    // One definition per state machine: the ASL file is deployed here and run locally as is,
    // inlined so that `cdk diff` shows a change of definition.
    const housekeepingLogs = new LogGroup(this, 'HousekeepingLogs', {
      logGroupName: `/aws/vendedlogs/states/${config.prefix}-housekeeping`,
      retention: config.logRetention,
      removalPolicy: config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.housekeeping = new StateMachine(this, 'Housekeeping', {
      stateMachineName: `${config.prefix}-housekeeping`,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(readFileSync(join(stateMachinesDir, 'housekeeping.asl.json'), 'utf8')),
      tracingEnabled: true,
      logs: { destination: housekeepingLogs, level: LogLevel.ALL, includeExecutionData: false },
      timeout: Duration.minutes(15),
    });
    acknowledge(this.housekeeping, {
      'AwsSolutions-IAM5[Resource::*]':
        'Step Functions adds these for log delivery and X-Ray: the logs:*LogDelivery* and xray:* actions it needs have no resource-level permissions.',
    });

    const scheduleDeadLetterQueue = new Queue(this, 'ScheduleDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(scheduleDeadLetterQueue, {
      'AwsSolutions-SQS3':
        'This is the dead-letter queue of the housekeeping schedule (scheduler targets take a DLQ, not a redrive policy).',
    });

    this.housekeepingSchedule = new Schedule(this, 'HousekeepingSchedule', {
      description: `${config.prefix}: starts the housekeeping state machine`,
      schedule: ScheduleExpression.expression(config.housekeepingSchedule),
      target: new StepFunctionsStartExecution(this.housekeeping, {
        input: ScheduleTargetInput.fromObject({ job: 'housekeeping' }),
        deadLetterQueue: scheduleDeadLetterQueue,
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
    });

    new CfnOutput(this, 'WorkQueueUrl', { value: this.workQueue.queueUrl });
    new CfnOutput(this, 'HousekeepingStateMachineArn', { value: this.housekeeping.stateMachineArn });
  }
}
