import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { type CfnFunction, EventSourceMapping, FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke, StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { BILLING_STREAM_FILTER } from '@platform/domain/billing/notifications';
import { DEPARTURE_STREAM_FILTERS } from '@platform/domain/identity/departures';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { limits, type PlatformConfig } from './config.ts';
import { grantKeyUse, grantTableData } from './constructs/access.ts';
import { FunctionBundles } from './constructs/bundles.ts';
import { acknowledge } from './constructs/nag.ts';
import { PlatformFunction } from './constructs/platform-function.ts';
import { SCHEDULED_JOBS, STREAM_HANDLERS } from './jobs.ts';
import { functionsDir, handlerEntry, stateMachinesDir } from './paths.ts';

export interface AsyncStackProps extends StackProps {
  config: PlatformConfig;
  table: ITableV2;
  key: IKey;
}

/** The tag naming the handler module a job's function runs (read by the local registry's test). */
export const HANDLER_TAG = 'platform:handler';

/**
 * Asynchronous work: the work queue and its DLQ, the periodic housekeeping pipeline, the
 * scheduled jobs (one function and one EventBridge schedule each), and the consumers of the
 * table's stream: billing's notifications and the revocation of departed members' API clients.
 */
export class AsyncStack extends Stack {
  readonly workQueue: Queue;
  readonly workDeadLetterQueue: Queue;
  readonly housekeeping: StateMachine;
  readonly housekeepingSchedule: Schedule;
  readonly jobs = new Map<string, { fn: PlatformFunction; schedule: Schedule }>();
  readonly billingNotifications: PlatformFunction;
  readonly apiClientDepartures: PlatformFunction;

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
      'AwsSolutions-SQS3': 'This is the dead-letter queue of the schedules (scheduler targets take a DLQ, not a redrive policy).',
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

    const bundles = FunctionBundles.build(this, [
      ...SCHEDULED_JOBS.map((job) => handlerEntry(functionsDir, job.handler)),
      ...STREAM_HANDLERS.map((handler) => handlerEntry(functionsDir, handler)),
    ]);
    const environment = (service: string) => ({
      TABLE_NAME: props.table.tableName,
      KMS_KEY_ID: props.key.keyArn,
      POWERTOOLS_SERVICE_NAME: service,
      POWERTOOLS_METRICS_NAMESPACE: config.prefix,
    });

    // A job that throws: the scheduler handed the event over (its DLQ catches only failed deliveries),
    // so Lambda's asynchronous invocation retries it once (the jobs are idempotent; a cause a retry
    // cannot fix is not run three times in a row) and then sends the event and its error here.
    const jobFailureQueue = new Queue(this, 'JobFailureQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(jobFailureQueue, {
      'AwsSolutions-SQS3': 'This is the on-failure destination of the job functions: a dead-letter queue itself.',
    });

    // One role for the job schedules: it may invoke the job functions, nothing else.
    const schedulerRole = new Role(this, 'JobSchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      description: `${config.prefix}: EventBridge Scheduler invoking the scheduled jobs`,
    });
    for (const job of SCHEDULED_JOBS) {
      const fn = new PlatformFunction(this, `${pascal(job.name)}Job`, {
        entry: handlerEntry(functionsDir, job.handler),
        bundles,
        functionName: `${config.prefix}-job-${job.name}`,
        description: job.description.slice(0, 256),
        environment: environment(job.name === 'daily-usage' ? 'usage' : 'billing'),
        timeout: limits.jobTimeout,
        logRetention: config.logRetention,
        retainLogs: config.isProduction,
      });
      Tags.of(fn.function).add(HANDLER_TAG, job.handler);
      fn.function.configureAsyncInvoke({ onFailure: new SqsDestination(jobFailureQueue), retryAttempts: 1 });
      grantTableData(fn.function, props.table.tableArn);
      grantKeyUse(fn.function, props.key.keyArn);
      const schedule = new Schedule(this, `${pascal(job.name)}Schedule`, {
        description: `${config.prefix}: ${job.description}`.slice(0, 512),
        schedule: ScheduleExpression.expression(config[job.schedule]),
        target: new LambdaInvoke(fn.function, {
          role: schedulerRole,
          input: ScheduleTargetInput.fromObject({ job: job.name }),
          deadLetterQueue: scheduleDeadLetterQueue,
          retryAttempts: 3,
          maxEventAge: Duration.hours(1),
        }),
      });
      this.jobs.set(job.name, { fn, schedule });
      const logicalId = this.resolve(this.getLogicalId(fn.function.node.defaultChild as CfnFunction)) as string;
      acknowledge(schedulerRole, {
        [`AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`]:
          'CDK grants lambda:InvokeFunction on the function and its versions (`<arn>:*`); the pattern covers only versions of this job function.',
      });
    }

    // The table's stream, each consumer with its own filter, dead-letter queue and retries.
    interface StreamConsumerProps {
      /** The handler module under functions/streams/. */
      module: string;
      /** The bounded context, as its service name in logs and metrics. */
      service: string;
      description: string;
      filters: object[];
    }
    const streamConsumer = (id: string, { module, service, description, filters }: StreamConsumerProps) => {
      const deadLetterQueue = new Queue(this, `${id}DeadLetterQueue`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      acknowledge(deadLetterQueue, {
        'AwsSolutions-SQS3': `This is the on-failure destination of the ${module} stream mapping (it keeps the records a retry could not deliver).`,
      });
      const consumer = new PlatformFunction(this, id, {
        entry: handlerEntry(functionsDir, `streams/${module}`),
        bundles,
        functionName: `${config.prefix}-${module}`,
        description,
        environment: environment(service),
        timeout: limits.streamWorkerTimeout,
        logRetention: config.logRetention,
        retainLogs: config.isProduction,
      });
      grantTableData(consumer.function, props.table.tableArn);
      grantKeyUse(consumer.function, props.key.keyArn);
      consumer.function.addToRolePolicy(
        new PolicyStatement({
          sid: 'TableStream',
          actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
          resources: [streamArn],
        }),
      );
      // The event source mapping polls with the function's role, ListStreams included (as in
      // AWSLambdaDynamoDBExecutionRole and CDK's grantStreamRead); it has no resource-level permissions.
      consumer.function.addToRolePolicy(
        new PolicyStatement({ sid: 'ListStreams', actions: ['dynamodb:ListStreams'], resources: ['*'] }),
      );
      deadLetterQueue.grantSendMessages(consumer.function);
      new EventSourceMapping(this, `${id}Stream`, {
        target: consumer.function,
        eventSourceArn: streamArn,
        startingPosition: StartingPosition.LATEST,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        bisectBatchOnError: true,
        retryAttempts: 5,
        reportBatchItemFailures: true,
        filters: filters.map((filter) => FilterCriteria.filter(filter as Record<string, unknown>)),
        onFailure: new SqsDlq(deadLetterQueue),
      });
      return consumer;
    };
    const streamArn = props.table.tableStreamArn!;
    this.billingNotifications = streamConsumer('BillingNotifications', {
      module: 'billing-notifications',
      service: 'billing',
      description: 'Billing notifications (low balance, payments, subscription changes) from the table stream',
      filters: [BILLING_STREAM_FILTER],
    });
    this.apiClientDepartures = streamConsumer('ApiClientDepartures', {
      module: 'api-client-departures',
      service: 'identity',
      description: 'Revokes the API clients of a member who left an organization, from the table stream',
      filters: DEPARTURE_STREAM_FILTERS,
    });

    new CfnOutput(this, 'WorkQueueUrl', { value: this.workQueue.queueUrl });
    new CfnOutput(this, 'HousekeepingStateMachineArn', { value: this.housekeeping.stateMachineArn });
  }
}

const pascal = (name: string) => name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
