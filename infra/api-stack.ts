import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { API_ALLOW_HEADERS, EXPOSED_HEADERS, GATEWAY_ALLOW_HEADERS } from '@platform/http/middleware/cors';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  AuthorizerPayloadVersion,
  CfnAuthorizer,
  CorsHttpMethod,
  HttpApi,
  HttpAuthorizer,
  HttpAuthorizerType,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import type { UserPool, UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType, HttpMethod as UrlMethod, InvokeMode, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { RouteDefinition } from '@platform/http/route';
import { limits, type PlatformConfig } from './config.ts';
import { grantBedrockInvoke, grantKeyUse, grantTableData } from './constructs/access.ts';
import { acknowledge } from './constructs/nag.ts';
import { FunctionBundles } from './constructs/bundles.ts';
import { functionName, pascalCase } from './constructs/names.ts';
import { PlatformFunction } from './constructs/platform-function.ts';
import { RouteGroup } from './constructs/route-group.ts';
import { functionsDir as defaultFunctionsDir, handlerEntry } from './paths.ts';

export interface ApiStackProps extends StackProps {
  config: PlatformConfig;
  /** The route manifest; routes marked `localOnly` are served by the local cloud only. */
  routes: readonly RouteDefinition[];
  table: TableV2;
  key: IKey;
  userPool: UserPool;
  userPoolClient: UserPoolClient;
  /** Where handler modules live; tests point it at fixtures. */
  functionsDir?: string;
}

/**
 * CORS as the HTTP kit and the local server answer it (API Gateway answers preflights and,
 * with CORS configured, replaces the CORS headers of the handlers' responses).
 */
const CORS_ALLOW_HEADERS = API_ALLOW_HEADERS;
const CORS_EXPOSE_HEADERS = EXPOSED_HEADERS;

/**
 * The HTTP API built from the route manifest: one Lambda function per route, grouped by
 * bounded context in nested stacks; a JWT authorizer (Cognito access tokens) for `user` and
 * `admin` routes and a Lambda authorizer (user tokens or API keys) for `principal` routes.
 */
export class ApiStack extends Stack {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly userAuthorizer: HttpAuthorizer;
  readonly principalAuthorizer: HttpAuthorizer;
  readonly authorizerFunction: PlatformFunction;
  readonly routeGroups = new Map<string, RouteGroup>();
  /** The routes this stack deploys (the manifest minus `localOnly`). */
  readonly deployedRoutes: readonly RouteDefinition[];
  /** The AI gateway's function and its streaming URL (the `surface: 'gateway'` routes). */
  readonly gatewayFunction?: PlatformFunction;
  readonly gatewayUrl?: FunctionUrl;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;
    const functionsDir = props.functionsDir ?? defaultFunctionsDir;
    this.deployedRoutes = props.routes.filter((route) => !route.localOnly);
    assertUnique(this.deployedRoutes);

    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: `${config.prefix}-api`,
      description: `${config.prefix}: the platform's HTTP API, built from the route manifest`,
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: config.corsOrigins,
        allowMethods: [
          CorsHttpMethod.GET,
          CorsHttpMethod.POST,
          CorsHttpMethod.PUT,
          CorsHttpMethod.PATCH,
          CorsHttpMethod.DELETE,
          CorsHttpMethod.OPTIONS,
        ],
        allowHeaders: CORS_ALLOW_HEADERS,
        exposeHeaders: CORS_EXPOSE_HEADERS,
        // Credentials travel in headers, never cookies.
        allowCredentials: false,
        maxAge: Duration.hours(1),
      },
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      logGroupName: `/aws/apigateway/${config.prefix}-api/access`,
      retention: config.logRetention,
      removalPolicy: config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: config.throttling,
      // Per-route metrics are billed as custom metrics (several per route): production only.
      detailedMetricsEnabled: config.isProduction,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            method: '$context.httpMethod',
            path: '$context.path',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            principalId: '$context.authorizer.principalId',
            userSub: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });

    this.userAuthorizer = new HttpAuthorizer(this, 'UserAuthorizer', {
      httpApi: this.httpApi,
      authorizerName: 'cognito-user',
      type: HttpAuthorizerType.JWT,
      identitySource: ['$request.header.Authorization'],
      jwtIssuer: props.userPool.userPoolProviderUrl,
      // Cognito access tokens carry the app client in `client_id`; API Gateway checks it against the audience.
      jwtAudience: [props.userPoolClient.userPoolClientId],
    });

    // Every handler of this stack (nested route groups included), built before the functions that use them.
    const authorizerEntry = handlerEntry(functionsDir, 'identity/authorizer');
    const bundles = FunctionBundles.build(this, [
      authorizerEntry,
      ...this.deployedRoutes.map((route) => handlerEntry(functionsDir, route.handler)),
    ]);

    this.authorizerFunction = new PlatformFunction(this, 'PrincipalAuthorizerFunction', {
      entry: authorizerEntry,
      bundles,
      functionName: `${config.prefix}-identity-authorizer`,
      description: 'HTTP API Lambda authorizer: a Cognito access token or an API client key',
      timeout: limits.authorizerTimeout,
      environment: {
        TABLE_NAME: props.table.tableName,
        USER_POOL_ID: props.userPool.userPoolId,
        USER_POOL_CLIENT_ID: props.userPoolClient.userPoolClientId,
        KMS_KEY_ID: props.key.keyArn,
        POWERTOOLS_SERVICE_NAME: 'identity',
        POWERTOOLS_METRICS_NAMESPACE: config.prefix,
      },
      logRetention: config.logRetention,
      retainLogs: config.isProduction,
    });
    grantTableData(this.authorizerFunction.function, props.table.tableArn);
    grantKeyUse(this.authorizerFunction.function, props.key.keyArn);

    const authorizerFn = this.authorizerFunction.function;
    this.principalAuthorizer = new HttpAuthorizer(this, 'PrincipalAuthorizer', {
      httpApi: this.httpApi,
      authorizerName: 'principal',
      type: HttpAuthorizerType.LAMBDA,
      identitySource: [],
      payloadFormatVersion: AuthorizerPayloadVersion.VERSION_2_0,
      enableSimpleResponses: true,
      authorizerUri: `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}:lambda:path/2015-03-31/functions/${authorizerFn.functionArn}/invocations`,
      // Credentials arrive in either `Authorization: Bearer` (token or key) or `x-api-key`.
      // Identity sources are all required when set, so naming one would reject requests that
      // use the other; and a cache keyed on one header would serve one caller's decision to
      // another. Hence no identity source and no caching: the authorizer runs on every request.
      resultsCacheTtl: Duration.seconds(0),
    });
    (this.principalAuthorizer.node.defaultChild as CfnAuthorizer).identitySource = undefined;
    authorizerFn.addPermission('InvokeFromApiGateway', {
      principal: new ServicePrincipal('apigateway.amazonaws.com'),
      sourceArn: this.formatArn({
        service: 'execute-api',
        resource: this.httpApi.apiId,
        resourceName: `authorizers/${this.principalAuthorizer.authorizerId}`,
      }),
    });

    const gatewayRoutes = this.deployedRoutes.filter((route) => route.surface === 'gateway');
    if (gatewayRoutes.length) {
      const handlers = new Set(gatewayRoutes.map((route) => route.handler));
      if (handlers.size > 1)
        throw new Error(`Gateway routes must share one handler (one function URL); got ${[...handlers].join(', ')}`);
      const gateway = new PlatformFunction(this, 'GatewayFunction', {
        entry: handlerEntry(functionsDir, gatewayRoutes[0]!.handler),
        bundles,
        functionName: `${config.prefix}-gateway-openai`,
        description:
          `AI gateway, OpenAI-compatible, streaming: ${gatewayRoutes.map((r) => `${r.method} ${r.path}`).join(', ')}`.slice(
            0,
            256,
          ),
        timeout: limits.gatewayTimeout,
        memorySize: limits.gatewayMemoryMb,
        environment: {
          TABLE_NAME: props.table.tableName,
          USER_POOL_ID: props.userPool.userPoolId,
          USER_POOL_CLIENT_ID: props.userPoolClient.userPoolClientId,
          KMS_KEY_ID: props.key.keyArn,
          POWERTOOLS_SERVICE_NAME: 'gateway',
          POWERTOOLS_METRICS_NAMESPACE: config.prefix,
        },
        logRetention: config.logRetention,
        retainLogs: config.isProduction,
      });
      grantTableData(gateway.function, props.table.tableArn);
      grantKeyUse(gateway.function, props.key.keyArn);
      grantBedrockInvoke(gateway.function);
      acknowledge(gateway, {
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/*]':
          'The model catalogue is data that platform admins edit at run time (and cross-region inference routes to other regions), so the gateway may invoke any foundation model; which models a tenant reaches is decided by the router.',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*:<AWS::AccountId>:inference-profile/*]':
          'Inference profiles are named by the model catalogue at run time, like the models, and called in the region a Bedrock credential names (any region); only this account’s profiles.',
      });
      // HTTP APIs buffer Lambda answers; a function URL with response streaming sends tokens as they
      // come. It has no authorizer: the function authenticates every call (tokens and API keys).
      this.gatewayFunction = gateway;
      this.gatewayUrl = gateway.function.addFunctionUrl({
        authType: FunctionUrlAuthType.NONE,
        invokeMode: InvokeMode.RESPONSE_STREAM,
        cors: {
          allowedOrigins: config.corsOrigins,
          allowedMethods: [UrlMethod.GET, UrlMethod.POST],
          allowedHeaders: GATEWAY_ALLOW_HEADERS,
          exposedHeaders: CORS_EXPOSE_HEADERS,
          maxAge: Duration.hours(1),
        },
      });
      new CfnOutput(this, 'GatewayUrl', {
        value: this.gatewayUrl.url,
        description: 'Base URL of the AI gateway (append openai/v1 for OpenAI clients)',
      });
    }

    const byContext = new Map<string, RouteDefinition[]>();
    for (const route of this.deployedRoutes.filter((r) => r.surface !== 'gateway')) {
      const context = route.handler.split('/')[0]!;
      byContext.set(context, [...(byContext.get(context) ?? []), route]);
    }
    for (const [context, routes] of [...byContext].sort(([a], [b]) => a.localeCompare(b))) {
      this.routeGroups.set(
        context,
        new RouteGroup(this, `${pascalCase(context)}Routes`, {
          config,
          context,
          routes,
          functionsDir,
          bundles,
          inputs: {
            ApiId: this.httpApi.apiId,
            UserAuthorizerId: this.userAuthorizer.authorizerId,
            PrincipalAuthorizerId: this.principalAuthorizer.authorizerId,
            TableName: props.table.tableName,
            TableArn: props.table.tableArn,
            KeyArn: props.key.keyArn,
            // The OpenAPI document names it as the server of the gateway's operations ('' without a gateway).
            GatewayUrl: this.gatewayUrl ? withoutTrailingSlash(this.gatewayUrl.url) : '',
            UserPoolId: props.userPool.userPoolId,
            UserPoolArn: props.userPool.userPoolArn,
            UserPoolClientId: props.userPoolClient.userPoolClientId,
          },
        }),
      );
    }

    new CfnOutput(this, 'ApiUrl', { value: this.stage.url, description: 'Base URL of the HTTP API' });
  }
}

/** `https://<id>.lambda-url.<region>.on.aws/` → `https://<id>.lambda-url.<region>.on.aws` (a function URL has no path). */
const withoutTrailingSlash = (functionUrl: string) => `https://${Fn.select(2, Fn.split('/', functionUrl))}`;

/** Ids name functions and logical ids, method and path the route key: each must be unique. */
function assertUnique(routes: readonly RouteDefinition[]) {
  const seen = new Map<string, string>();
  for (const route of routes) {
    const keys = [
      `id ${route.id}`,
      `logical id ${pascalCase(route.id)}`,
      `function name ${functionName('', route.id)}`,
      `route key ${route.method} ${route.path}`,
    ];
    for (const key of keys) {
      const other = seen.get(key);
      if (other) throw new Error(`Routes ${other} and ${route.id} share the ${key}`);
      seen.set(key, route.id);
    }
  }
}
