import { beforeAll, describe, expect, it } from 'vitest';
import type { AuthKind, RouteDefinition } from '@platform/http/route';
import { routes } from '@platform/api/manifest';
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
