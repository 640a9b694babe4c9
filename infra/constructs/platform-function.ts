import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { readTracing } from '../config.ts';
import { lockFile, repoRoot } from '../paths.ts';
import { NODEJS_BUNDLING, type FunctionBundles } from './bundles.ts';
import { acknowledge } from './nag.ts';

export const FUNCTION_RUNTIME = Runtime.NODEJS_22_X;

export interface PlatformFunctionProps {
  /** Absolute path of the handler module; it exports `handler`. */
  entry: string;
  /** The stack's shared bundle build, which must include `entry`. */
  bundles: FunctionBundles;
  functionName: string;
  description?: string;
  environment: Record<string, string>;
  memorySize?: number;
  timeout: Duration;
  logRetention: RetentionDays;
  /** Log groups outlive the function in production (audit trail). */
  retainLogs: boolean;
}

/**
 * One Lambda function the platform's way: Node.js 22 on arm64, an ESM bundle built by the
 * local esbuild (no Docker) with the AWS SDK inside (see `esbuild.ts`), X-Ray tracing (and
 * the Powertools Tracer with the `tracing` context switch),
 * JSON logs into its own log group with a retention, and a role of its own that starts
 * with nothing but writing to that log group (no AWSLambdaBasicExecutionRole).
 */
export class PlatformFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.functionName}`,
    });
    this.logGroup.grantWrite(this.role);

    const code = props.bundles.code(props.entry);
    this.function = new NodejsFunction(this, 'Function', {
      ...(code
        ? { code, handler: 'index.handler' }
        : {
            entry: props.entry,
            handler: 'handler',
            projectRoot: repoRoot,
            depsLockFilePath: lockFile,
            bundling: NODEJS_BUNDLING,
          }),
      functionName: props.functionName,
      ...(props.description ? { description: props.description } : {}),
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      tracing: Tracing.ACTIVE,
      environment: {
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        // The route handlers load the Powertools Tracer only then (`tracing()` of packages/http/src/middleware/observe.ts).
        ...(readTracing(this.node) === 'powertools' ? { TRACING: 'powertools' } : {}),
        ...props.environment,
      },
    });

    acknowledge(this, {
      'AwsSolutions-L1':
        'Node.js 22 is the deployment runtime the architecture fixes (code and tests target it); moving to a newer runtime is a deliberate, tested change.',
      'AwsSolutions-IAM5[Resource::*]':
        'Only actions without resource-level permissions use "*": xray:PutTraceSegments and xray:PutTelemetryRecords (the statement Tracing.ACTIVE adds) and, for the table-stream consumers, dynamodb:ListStreams (their event source mappings list the table’s streams). Every other grant names its resources.',
    });
  }
}
