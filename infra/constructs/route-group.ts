import { CfnParameter, NestedStack } from 'aws-cdk-lib';
import {
  HttpApi,
  HttpAuthorizer,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpRoute,
  HttpRouteKey,
  PayloadFormatVersion,
  type IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { AuthKind, RouteDefinition } from '@platform/http/route';
import { GATEWAY_URL_ENV } from '@platform/api/openapi-json';
import { limits, type PlatformConfig } from '../config.ts';
import { handlerEntry } from '../paths.ts';
import { grantBedrockInvoke, grantKeyUse, grantSendMail, grantTableData, grantUserPoolAdmin } from './access.ts';
import type { FunctionBundles } from './bundles.ts';
import { functionName, pascalCase } from './names.ts';
import { acknowledge } from './nag.ts';
import { PlatformFunction } from './platform-function.ts';

/**
 * What a route group receives from the API stack. Each is a CloudFormation parameter of
 * the nested stack with this fixed name, so the nested template reads as a self-contained
 * unit (and policy findings name `<TableArn>`, not a generated reference id).
 */
export const ROUTE_GROUP_INPUTS = [
  'ApiId',
  'UserAuthorizerId',
  'PrincipalAuthorizerId',
  'TableName',
  'TableArn',
  'KeyArn',
  'GatewayUrl',
  'UserPoolId',
  'UserPoolArn',
  'UserPoolClientId',
] as const;
export type RouteGroupInputs = Record<(typeof ROUTE_GROUP_INPUTS)[number], string>;

/**
 * Seven resources per route (function, role, policy, log group, invoke permission,
 * integration, route) against CloudFormation's 500 per stack, with room to spare.
 */
export const MAX_ROUTES_PER_GROUP = 64;

export interface RouteGroupProps {
  config: PlatformConfig;
  /** Bounded context: the first folder of the handlers (`identity` for `identity/get-me`). */
  context: string;
  routes: RouteDefinition[];
  functionsDir: string;
  /** The API stack's shared bundle build (it includes every route's handler). */
  bundles: FunctionBundles;
  inputs: RouteGroupInputs;
}

/**
 * Handlers that serve the OpenAPI document: they learn the gateway's function URL, the server of
 * the gateway's operations (`GATEWAY_URL_ENV` of `@platform/api/openapi-json`).
 */
const OPENAPI_HANDLERS = new Set(['platform/openapi']);

/** Contexts whose handlers call the Cognito Admin* APIs (account deletion, group changes). */
const USER_POOL_ADMIN_CONTEXTS = new Set(['identity']);

/** Why a function that tests provider keys may invoke any Bedrock model (the same reasons as the gateway's). */
const BEDROCK_ACKNOWLEDGEMENTS = {
  'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/*]':
    'A provider key is tested on the model it names or the catalogue’s cheapest, both data edited at run time, so the function may invoke any foundation model; the domain decides which model a key is tested on.',
  'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*:<AWS::AccountId>:inference-profile/*]':
    'Inference profiles are named by the model catalogue at run time, like the models, and called in the region a Bedrock credential names (any region); only this account’s profiles.',
};

/**
 * The routes of one bounded context, in a nested stack of their own: one function per
 * route (a function per endpoint is the architecture), and nested stacks keep each
 * template far below CloudFormation's resource limit as the manifest grows.
 */
export class RouteGroup extends NestedStack {
  readonly functions = new Map<string, PlatformFunction>();
  readonly routes = new Map<string, HttpRoute>();

  constructor(scope: Construct, id: string, props: RouteGroupProps) {
    super(scope, id, {
      description: `${props.config.prefix} API routes of the ${props.context} context`,
      parameters: props.inputs,
    });
    if (props.routes.length > MAX_ROUTES_PER_GROUP) {
      throw new Error(
        `The ${props.context} context has ${props.routes.length} routes; a route group (nested stack) holds at most ${MAX_ROUTES_PER_GROUP}, so split it into several groups in ApiStack.`,
      );
    }

    const input = Object.fromEntries(
      ROUTE_GROUP_INPUTS.map((name) => [name, new CfnParameter(this, name, { type: 'String' }).valueAsString]),
    ) as RouteGroupInputs;

    const httpApi = HttpApi.fromHttpApiAttributes(this, 'Api', { httpApiId: input.ApiId });
    const authorizers: Record<AuthKind, IHttpRouteAuthorizer> = {
      public: new HttpNoneAuthorizer(),
      user: HttpAuthorizer.fromHttpAuthorizerAttributes(this, 'UserAuthorizer', {
        authorizerId: input.UserAuthorizerId,
        authorizerType: 'JWT',
      }),
      // Admin routes carry a Cognito access token like user routes; the handler checks the
      // `cognito:groups` claim for `admin` (a JWT authorizer cannot test group membership).
      admin: HttpAuthorizer.fromHttpAuthorizerAttributes(this, 'AdminAuthorizer', {
        authorizerId: input.UserAuthorizerId,
        authorizerType: 'JWT',
      }),
      principal: HttpAuthorizer.fromHttpAuthorizerAttributes(this, 'PrincipalAuthorizer', {
        authorizerId: input.PrincipalAuthorizerId,
        authorizerType: 'CUSTOM',
      }),
    };

    const { config } = props;
    // Stripe's secret goes to the routes that call Stripe (their manifest says so), whatever their
    // context: deleting an organization (identity) cancels its subscription too.
    const stripeSecret = props.routes.some((route) => route.callsStripe)
      ? Secret.fromSecretNameV2(this, 'StripeSecret', config.stripeSecretName)
      : undefined;
    for (const route of props.routes) {
      const name = pascalCase(route.id);
      const fn = new PlatformFunction(this, name, {
        entry: handlerEntry(props.functionsDir, route.handler),
        bundles: props.bundles,
        functionName: functionName(config.prefix, route.id),
        description: `${route.method} ${route.path}: ${route.summary}`.slice(0, 256),
        timeout: limits.routeTimeout,
        memorySize: limits.routeMemoryMb,
        environment: {
          TABLE_NAME: input.TableName,
          USER_POOL_ID: input.UserPoolId,
          USER_POOL_CLIENT_ID: input.UserPoolClientId,
          KMS_KEY_ID: input.KeyArn,
          APP_URL: config.appUrl,
          MAIL_FROM: config.mailFrom,
          POWERTOOLS_SERVICE_NAME: props.context,
          POWERTOOLS_METRICS_NAMESPACE: config.prefix,
          ...(route.callsStripe && stripeSecret ? { STRIPE_SECRET_ID: stripeSecret.secretName } : {}),
          ...(OPENAPI_HANDLERS.has(route.handler) ? { [GATEWAY_URL_ENV]: input.GatewayUrl } : {}),
        },
        logRetention: config.logRetention,
        retainLogs: config.isProduction,
      });
      grantTableData(fn.function, input.TableArn);
      grantKeyUse(fn.function, input.KeyArn);
      grantSendMail(fn.function, config.mailFrom);
      if (USER_POOL_ADMIN_CONTEXTS.has(props.context)) grantUserPoolAdmin(fn.function, input.UserPoolArn);
      if (route.callsStripe) stripeSecret?.grantRead(fn.function);
      if (route.invokesModels) grantBedrockInvoke(fn.function);
      if (route.invokesModels) acknowledge(fn, BEDROCK_ACKNOWLEDGEMENTS);

      const httpRoute = new HttpRoute(this, `${name}Route`, {
        httpApi,
        routeKey: HttpRouteKey.with(route.path, HttpMethod[route.method]),
        integration: new HttpLambdaIntegration(`${name}Integration`, fn.function, {
          payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
        }),
        authorizer: authorizers[route.auth],
      });
      if (route.auth === 'public') {
        acknowledge(httpRoute, {
          'AwsSolutions-APIG4': `Public by design (${route.method} ${route.path}: ${route.summary}); it takes no credentials or checks its own (sign-up, sign-in, signed webhooks).`,
        });
      }
      this.functions.set(route.id, fn);
      this.routes.set(route.id, httpRoute);
    }
  }
}
