import { beforeAll, describe, expect, it } from 'vitest';
import type { AuthKind, RouteDefinition } from '@platform/http/route';
import OpenAI from 'openai';
import { routes } from '@platform/api/manifest';
import { GATEWAY_URL_ENV } from '@platform/api/openapi-json';
import { resourcesOf, synthPlatform, type CfnResource, type Synthesized } from './synth.ts';

/** The app `cdk deploy` ships: the real route manifest and the real handlers under functions/. */
let app: Synthesized;
beforeAll(() => {
  app = synthPlatform({ routes });
});

const deployed = routes.filter((route) => !route.localOnly && route.surface !== 'gateway');
const gateway = routes.filter((route) => route.surface === 'gateway');
const routeKey = (route: RouteDefinition) => `${route.method} ${route.path}`;
const deployedRoutes = () => resourcesOf(app.routeGroups.values(), 'AWS::ApiGatewayV2::Route');
const templatesOf = (synthesized: Synthesized) => [
  synthesized.data,
  synthesized.auth,
  synthesized.async,
  synthesized.api,
  ...synthesized.routeGroups.values(),
];

/** Every function the platform deploys, in every stack (the CDK's own custom-resource functions have no name of ours). */
const platformFunctions = (synthesized: Synthesized) =>
  resourcesOf(templatesOf(synthesized), 'AWS::Lambda::Function').filter((fn) =>
    String(fn.Properties.FunctionName ?? '').startsWith('platform-dev-'),
  );

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown };

/** A deployed function and the statements of the policies on its role (in its own template). */
function roleOf(functionName: string): { fn: CfnResource; statements: Statement[] } {
  for (const template of templatesOf(app)) {
    const fn = (Object.values(template.findResources('AWS::Lambda::Function')) as CfnResource[]).find(
      (f) => f.Properties.FunctionName === functionName,
    );
    if (!fn) continue;
    const role = JSON.stringify({ Ref: fn.Properties.Role['Fn::GetAtt'][0] });
    const statements = (Object.values(template.findResources('AWS::IAM::Policy')) as CfnResource[])
      .filter((p) => (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    return { fn, statements };
  }
  throw new Error(`No function ${functionName}`);
}

describe('the deployed API', () => {
  it('has exactly the route keys of the manifest, local-only and gateway routes left out', () => {
    const keys = deployedRoutes().map((route) => route.Properties.RouteKey as string);
    expect(keys.length).toBe(new Set(keys).size);
    expect(new Set(keys)).toEqual(new Set(deployed.map(routeKey)));
    for (const route of routes.filter((r) => r.localOnly)) expect(keys).not.toContain(routeKey(route));
    for (const route of gateway) expect(keys).not.toContain(routeKey(route));
  });

  it('serves the gateway routes from one function behind a streaming function URL that authenticates itself', () => {
    expect(gateway.map(routeKey).sort()).toEqual(
      [
        'GET /openai/v1/models',
        'GET /openai/v1/models/{modelId}',
        'POST /openai/v1/chat/completions',
        'POST /openai/v1/embeddings',
        'POST /openai/v1/images/generations',
      ].sort(),
    );
    app.api.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'platform-dev-gateway-openai',
      Timeout: 300,
      Architectures: ['arm64'],
    });
    app.api.resourceCountIs('AWS::Lambda::Url', 1);
    app.api.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', InvokeMode: 'RESPONSE_STREAM' });
    app.api.hasOutput('GatewayUrl', {});
    const statements = Object.values(app.api.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<{ Sid?: string; Action: string[] }>,
    );
    expect(statements.find((s) => s.Sid === 'BedrockInvoke')?.Action).toEqual([
      'bedrock:InvokeModel',
      'bedrock:InvokeModelWithResponseStream',
    ]);
  });

  it('authenticates each route as its manifest entry says', () => {
    const expected: Record<AuthKind, { AuthorizationType: string; AuthorizerId?: { Ref: string } }> = {
      user: { AuthorizationType: 'JWT', AuthorizerId: { Ref: 'UserAuthorizerId' } },
      admin: { AuthorizationType: 'JWT', AuthorizerId: { Ref: 'UserAuthorizerId' } },
      principal: { AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: 'PrincipalAuthorizerId' } },
      public: { AuthorizationType: 'NONE' },
    };
    const byKey = new Map(deployedRoutes().map((r) => [r.Properties.RouteKey as string, r.Properties]));
    for (const route of deployed) {
      const actual = byKey.get(routeKey(route))!;
      expect({ route: route.id, AuthorizationType: actual.AuthorizationType, AuthorizerId: actual.AuthorizerId }).toEqual({
        route: route.id,
        AuthorizerId: undefined,
        ...expected[route.auth],
      });
    }
  });

  it('has one function per deployed route, named after its id, plus the authorizer', () => {
    const names = resourcesOf(app.routeGroups.values(), 'AWS::Lambda::Function').map((f) => f.Properties.FunctionName);
    expect(names.sort()).toEqual(deployed.map((route) => `platform-dev-${route.id}`).sort());
    app.api.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'platform-dev-identity-authorizer' });
  });

  it('keeps every route group well under the 500 resources of a CloudFormation stack', () => {
    for (const [context, group] of app.routeGroups) {
      const count = Object.keys(group.toJSON().Resources).length;
      expect(count, context).toBeLessThan(450);
    }
  });

  it('leaves no AwsSolutions (cdk-nag) finding unacknowledged', () => {
    expect(app.nagFindings).toEqual([]);
  });

  it('gives Stripe’s secret to exactly the routes that call Stripe, by name from Secrets Manager, deleting an organization too', () => {
    // Deleting an organization (identity context) cancels its Stripe subscription: without the
    // secret, stripeConfig() throws and the route answers 500 for every organization billed by Stripe.
    const calling = deployed.filter((route) => route.callsStripe).map((route) => route.id);
    expect(calling.sort()).toEqual([
      'cancelSubscription',
      'changeSubscriptionPlan',
      'createCheckout',
      'deleteMe',
      'deleteOrg',
      'recordManualPayment',
      'resumeSubscription',
      'stripeWebhook',
    ]);
    for (const id of calling) {
      const { fn, statements } = roleOf(`platform-dev-${id}`);
      expect(fn.Properties.Environment.Variables.STRIPE_SECRET_ID, id).toBe('platform-dev/stripe');
      const reads = statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
      expect(JSON.stringify(reads.map((s) => s.Resource)), id).toContain(':secret:platform-dev/stripe-');
    }
    const withSecret = platformFunctions(app).filter((fn) => fn.Properties.Environment.Variables.STRIPE_SECRET_ID);
    expect(withSecret.map((fn) => fn.Properties.FunctionName).sort()).toEqual(calling.map((id) => `platform-dev-${id}`).sort());
    for (const fn of platformFunctions(app).filter((f) => !f.Properties.Environment.Variables.STRIPE_SECRET_ID)) {
      const reads = roleOf(fn.Properties.FunctionName).statements.filter((s) =>
        [s.Action].flat().includes('secretsmanager:GetSecretValue'),
      );
      expect(reads, fn.Properties.FunctionName).toEqual([]);
    }
  });

  it('lets only the routes that call a provider themselves (testing a key) invoke Bedrock models', () => {
    const invoking = deployed.filter((route) => route.invokesModels);
    expect(invoking.map((route) => route.id).sort()).toEqual([
      'testMyProviderCredential',
      'testPlatformProviderCredential',
      'testProviderCredential',
    ]);
    const policies = resourcesOf(app.routeGroups.values(), 'AWS::IAM::Policy').filter((p) =>
      (p.Properties.PolicyDocument.Statement as Array<{ Sid?: string }>).some((s) => s.Sid === 'BedrockInvoke'),
    );
    expect(policies).toHaveLength(invoking.length);
  });

  it('lets the gateway and the key tests invoke inference profiles in any region (the one a Bedrock credential names)', () => {
    // A Bedrock credential's config.region is the region of its calls: an `eu.anthropic.…` profile
    // called in eu-west-1 is arn:aws:bedrock:eu-west-1:<account>:inference-profile/eu.anthropic.…,
    // whatever region the stack is in.
    for (const name of ['platform-dev-gateway-openai', 'platform-dev-testPlatformProviderCredential']) {
      const bedrock = roleOf(name).statements.find((s) => s.Sid === 'BedrockInvoke')!;
      const resources = [bedrock.Resource].flat();
      expect(resources, name).toHaveLength(2);
      expect(resources, name).toEqual(
        expect.arrayContaining([
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:*::foundation-model/*']] },
          {
            'Fn::Join': [
              '',
              ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:*:', { Ref: 'AWS::AccountId' }, ':inference-profile/*'],
            ],
          },
        ]),
      );
    }
  });
});

describe('the gateway’s operations in the deployed OpenAPI document', () => {
  it('name the gateway’s function URL: GET /openapi.json’s function gets it, without its trailing slash, from the function URL', () => {
    const urlId = app.api.getResourceId('AWS::Lambda::Url');
    const [, groupStack] = (Object.entries(app.api.findResources('AWS::CloudFormation::Stack')) as [string, CfnResource][]).find(
      ([id]) => id.startsWith('PlatformRoutes'),
    )!;
    // `https://<id>.lambda-url.<region>.on.aws/` → `https://<id>.lambda-url.<region>.on.aws`: the operations' paths start with `/`.
    expect(groupStack.Properties.Parameters.GatewayUrl).toEqual({
      'Fn::Join': ['', ['https://', { 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [urlId, 'FunctionUrl'] }] }] }]],
    });
    const openApi = routes.find((route) => route.handler === 'platform/openapi')!;
    const withUrl = platformFunctions(app).filter((fn) => fn.Properties.Environment.Variables[GATEWAY_URL_ENV]);
    expect(withUrl.map((fn) => fn.Properties.FunctionName)).toEqual([`platform-dev-${openApi.id}`]);
    expect(withUrl[0]!.Properties.Environment.Variables[GATEWAY_URL_ENV]).toEqual({ Ref: 'GatewayUrl' });
  });
});

describe('least privilege against what the code does', () => {
  it('gives no function the assets bucket: no product code reads or writes S3 objects (only the local cloud’s fauxqs)', () => {
    for (const fn of platformFunctions(app)) {
      const name = fn.Properties.FunctionName as string;
      const s3 = roleOf(name).statements.filter((s) => [s.Action].flat().some((action) => action.startsWith('s3:')));
      expect(s3, name).toEqual([]);
      expect(fn.Properties.Environment.Variables.ASSETS_BUCKET, name).toBeUndefined();
    }
  });

  it('lets each table-stream consumer list, describe and read the stream, as Lambda’s event source mapping needs', () => {
    for (const name of ['platform-dev-billing-notifications', 'platform-dev-api-client-departures']) {
      const actions = roleOf(name).statements.flatMap((s) => [s.Action].flat());
      expect(actions, name).toEqual(
        expect.arrayContaining([
          'dynamodb:DescribeStream',
          'dynamodb:GetRecords',
          'dynamodb:GetShardIterator',
          'dynamodb:ListStreams',
        ]),
      );
      // ListStreams has no resource-level permissions (AWSLambdaDynamoDBExecutionRole grants it on "*" too).
      expect(roleOf(name).statements.find((s) => [s.Action].flat().includes('dynamodb:ListStreams'))?.Resource).toBe('*');
    }
  });
});

describe('the gateway’s CORS', () => {
  it('lets a browser app send what the OpenAI SDK sends (x-stainless-*, organization, project), so its preflight passes', async () => {
    // The headers the SDK sets on a real call, minus the CORS-safelisted ones (a preflight never names those).
    let sent: Headers | undefined;
    const client = new OpenAI({
      apiKey: 'ak_test',
      organization: 'org_1',
      project: 'proj_1',
      baseURL: 'https://gateway.example.com/openai/v1',
      maxRetries: 0,
      fetch: async (_url: string | URL | Request, init?: RequestInit) => {
        sent = new Headers(init?.headers);
        return new Response(JSON.stringify({ object: 'list', data: [] }), { headers: { 'content-type': 'application/json' } });
      },
    });
    await client.embeddings.create({ model: 'local-embed', input: 'hello' });
    const needed = [...sent!.keys()].filter((name) => name !== 'accept' && name !== 'content-length');
    expect(needed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'openai-organization', 'x-stainless-lang']));
    const url = Object.values(app.api.findResources('AWS::Lambda::Url'))[0] as CfnResource;
    const allowed = new Set((url.Properties.Cors.AllowHeaders as string[]).map((name) => name.toLowerCase()));
    expect(needed.filter((name) => !allowed.has(name))).toEqual([]);
  });
});

describe('the tracing context switch', () => {
  it('leaves the Powertools Tracer off by default: Lambda’s active tracing alone', () => {
    const functions = platformFunctions(app);
    expect(functions.length).toBeGreaterThan(deployed.length);
    for (const fn of functions) {
      expect(fn.Properties.TracingConfig, fn.Properties.FunctionName).toEqual({ Mode: 'Active' });
      expect(fn.Properties.Environment.Variables.TRACING, fn.Properties.FunctionName).toBeUndefined();
    }
  });

  let traced: Synthesized;
  beforeAll(() => {
    traced = synthPlatform({ routes, context: { tracing: 'powertools' } });
  });

  it('with `-c tracing=powertools`, sets TRACING=powertools on every function: routes, authorizer, gateway, trigger, jobs, workers', () => {
    const functions = platformFunctions(traced);
    expect(functions.length).toBe(platformFunctions(app).length);
    const names = functions.map((fn) => fn.Properties.FunctionName as string);
    for (const name of [
      'platform-dev-getMe',
      'platform-dev-identity-authorizer',
      'platform-dev-gateway-openai',
      'platform-dev-identity-post-confirmation',
      'platform-dev-job-renewal',
      'platform-dev-billing-notifications',
    ])
      expect(names).toContain(name);
    for (const fn of functions) {
      expect(fn.Properties.TracingConfig, fn.Properties.FunctionName).toEqual({ Mode: 'Active' });
      expect(fn.Properties.Environment.Variables.TRACING, fn.Properties.FunctionName).toBe('powertools');
    }
    expect(traced.nagFindings).toEqual([]);
  });
});
