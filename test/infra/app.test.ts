import { beforeAll, describe, expect, it } from 'vitest';
import type { AuthKind, RouteDefinition } from '@platform/http/route';
import { routes } from '@platform/api/manifest';
import { resourcesOf, synthPlatform, type Synthesized } from './synth.ts';

/** The app `cdk deploy` ships: the real route manifest and the real handlers under functions/. */
let app: Synthesized;
beforeAll(() => {
  app = synthPlatform({ routes });
});

const deployed = routes.filter((route) => !route.localOnly && route.surface !== 'gateway');
const gateway = routes.filter((route) => route.surface === 'gateway');
const routeKey = (route: RouteDefinition) => `${route.method} ${route.path}`;
const deployedRoutes = () => resourcesOf(app.routeGroups.values(), 'AWS::ApiGatewayV2::Route');

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

  it('gives the billing functions Stripe’s secret by name from Secrets Manager, and no other context', () => {
    const billing = app.routeGroups.get('billing')!;
    for (const fn of Object.values(billing.findResources('AWS::Lambda::Function')) as Array<{ Properties: any }>)
      expect(fn.Properties.Environment.Variables.STRIPE_SECRET_ID).toBe('platform-dev/stripe');
    const statements = Object.values(billing.findResources('AWS::IAM::Policy')).flatMap(
      (p: any) => p.Properties.PolicyDocument.Statement,
    );
    expect(statements.some((s: any) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))).toBe(true);
    for (const fn of resourcesOf([app.routeGroups.get('identity')!], 'AWS::Lambda::Function'))
      expect(fn.Properties.Environment.Variables.STRIPE_SECRET_ID).toBeUndefined();
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
});

describe('the tracing context switch', () => {
  /** Every function the platform deploys, in every stack (the CDK's own custom-resource functions have no name of ours). */
  const platformFunctions = (synthesized: Synthesized) =>
    resourcesOf(
      [synthesized.data, synthesized.auth, synthesized.async, synthesized.api, ...synthesized.routeGroups.values()],
      'AWS::Lambda::Function',
    ).filter((fn) => String(fn.Properties.FunctionName ?? '').startsWith('platform-dev-'));

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
