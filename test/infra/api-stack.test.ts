import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureFunctionsDir, fixtureRoutes } from './fixtures/routes.ts';
import { resourcesOf, synthPlatform, type CfnResource, type Synthesized } from './synth.ts';

/**
 * The API stack built from a small fixture manifest: one route of each auth kind in three
 * contexts, and a local-only route. `app.test.ts` checks the real manifest.
 */
let dev: Synthesized;
beforeAll(() => {
  dev = synthPlatform({
    routes: fixtureRoutes,
    functionsDir: fixtureFunctionsDir,
    context: { corsOrigins: ['https://app.example.com'], mailFrom: 'noreply@mail.example.com' },
  });
});

const groups = () => [...dev.routeGroups.values()];
const routeByKey = (key: string) => resourcesOf(groups(), 'AWS::ApiGatewayV2::Route').find((r) => r.Properties.RouteKey === key)!;
const groupOf = (context: string) => dev.routeGroups.get(context)!;
const functionNamed = (name: string) =>
  resourcesOf(groups(), 'AWS::Lambda::Function').find((f) => f.Properties.FunctionName === name)!;

describe('routes', () => {
  it('are deployed for every route but the local-only ones, grouped by context', () => {
    expect([...dev.routeGroups.keys()]).toEqual(['admin', 'gateway', 'identity']);
    const keys = resourcesOf(groups(), 'AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey);
    expect(keys.sort()).toEqual(
      ['GET /v1/me', 'POST /v1/auth/sign-up', 'GET /v1/admin/users', 'POST /v1/orgs/{orgId}/chat/completions'].sort(),
    );
    dev.api.resourceCountIs('AWS::CloudFormation::Stack', 3);
  });

  it('pass each group the API, the authorizers and the data it needs as named parameters', () => {
    const nested = Object.values(dev.api.findResources('AWS::CloudFormation::Stack'));
    const parameters = nested.map((stack) => stack.Properties.Parameters);
    for (const p of parameters) {
      expect(p).toMatchObject({
        ApiId: { Ref: dev.api.getResourceId('AWS::ApiGatewayV2::Api') },
        UserAuthorizerId: {
          Ref: dev.api.getResourceId('AWS::ApiGatewayV2::Authorizer', { Properties: { AuthorizerType: 'JWT' } }),
        },
        PrincipalAuthorizerId: {
          Ref: dev.api.getResourceId('AWS::ApiGatewayV2::Authorizer', { Properties: { AuthorizerType: 'REQUEST' } }),
        },
      });
    }
  });

  it('use the JWT authorizer for user and admin routes, the Lambda authorizer for principal routes, none for public', () => {
    expect(routeByKey('GET /v1/me').Properties).toMatchObject({
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: 'UserAuthorizerId' },
    });
    expect(routeByKey('GET /v1/admin/users').Properties).toMatchObject({
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: 'UserAuthorizerId' },
    });
    expect(routeByKey('POST /v1/orgs/{orgId}/chat/completions').Properties).toMatchObject({
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: 'PrincipalAuthorizerId' },
    });
    expect(routeByKey('POST /v1/auth/sign-up').Properties).toMatchObject({ AuthorizationType: 'NONE' });
    expect(routeByKey('POST /v1/auth/sign-up').Properties).not.toHaveProperty('AuthorizerId');
  });

  it('each invoke their own function through a payload 2.0 proxy integration', () => {
    const identity = groupOf('identity');
    const route = Object.values(identity.findResources('AWS::ApiGatewayV2::Route')).find(
      (r) => r.Properties.RouteKey === 'GET /v1/me',
    ) as CfnResource;
    const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref as string;
    const integration = identity.findResources('AWS::ApiGatewayV2::Integration')[integrationId]!;
    const getMe = identity.getResourceId('AWS::Lambda::Function', {
      Properties: { FunctionName: 'platform-dev-identity-getMe' },
    });
    expect(integration.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [getMe, 'Arn'] },
    });
    identity.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [getMe, 'Arn'] },
      Principal: 'apigateway.amazonaws.com',
    });
  });
});

describe('route functions', () => {
  it('are one per deployed route, named after the route id', () => {
    const names = resourcesOf(groups(), 'AWS::Lambda::Function').map((f) => f.Properties.FunctionName);
    expect(names.sort()).toEqual([
      'platform-dev-admin-listUsers',
      'platform-dev-gateway-chatCompletions',
      'platform-dev-identity-getMe',
      'platform-dev-identity-signUp',
    ]);
  });

  it('run Node.js 22 on arm64, 512 MB, 10 s, X-Ray, JSON logs into a log group with retention', () => {
    const fn = functionNamed('platform-dev-identity-getMe');
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 10,
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
    });
    groupOf('identity').hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/lambda/platform-dev-identity-getMe',
      RetentionInDays: 30,
    });
  });

  it('get the platform environment', () => {
    const variables = functionNamed('platform-dev-gateway-chatCompletions').Properties.Environment.Variables;
    expect(variables).toEqual({
      TABLE_NAME: { Ref: 'TableName' },
      USER_POOL_ID: { Ref: 'UserPoolId' },
      USER_POOL_CLIENT_ID: { Ref: 'UserPoolClientId' },
      KMS_KEY_ID: { Ref: 'KeyArn' },
      APP_URL: 'https://app.example.com',
      MAIL_FROM: 'noreply@mail.example.com',
      POWERTOOLS_SERVICE_NAME: 'gateway',
      POWERTOOLS_METRICS_NAMESPACE: 'platform-dev',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
  });

  it('have roles of their own without managed policies', () => {
    const roles = resourcesOf(groups(), 'AWS::IAM::Role');
    expect(roles).toHaveLength(4);
    for (const role of roles) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('may use the table (no Scan) and the key, and send mail only as MAIL_FROM: no S3 (no route reads or writes objects)', () => {
    const [policy] = Object.values(groupOf('gateway').findResources('AWS::IAM::Policy'));
    const statements = policy!.Properties.PolicyDocument.Statement as Record<string, any>[];
    const bySid = Object.fromEntries(statements.filter((s) => s.Sid).map((s) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual(['PlatformKey', 'SendMail', 'TableIndexes', 'TableItems']);
    expect(bySid.TableItems.Resource).toEqual({ Ref: 'TableArn' });
    expect(bySid.TableItems.Action).not.toContain('dynamodb:Scan');
    expect(JSON.stringify(bySid.TableIndexes.Resource)).toContain('/index/gsi1');
    expect(bySid.SendMail.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'noreply@mail.example.com' } });
    for (const s of statements) {
      expect(String(s.Action)).not.toMatch(/\*/);
    }
  });

  it('reach the Cognito admin APIs only in the identity context', () => {
    const hasPoolAdmin = (context: string) =>
      JSON.stringify(groupOf(context).findResources('AWS::IAM::Policy')).includes('UserPoolAdmin');
    expect(hasPoolAdmin('identity')).toBe(true);
    expect(hasPoolAdmin('gateway')).toBe(false);
    expect(hasPoolAdmin('admin')).toBe(false);
  });
});

describe('the HTTP API', () => {
  it('answers CORS preflights for the configured origins', () => {
    dev.api.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ['https://app.example.com'],
        AllowHeaders: Match.arrayWith(['authorization', 'content-type', 'x-api-key', 'idempotency-key']),
        AllowMethods: Match.arrayWith(['GET', 'POST', 'PATCH', 'DELETE']),
      }),
    });
  });

  it('verifies Cognito access tokens with a JWT authorizer on the pool issuer and app client', () => {
    const authorizer = Object.values(
      dev.api.findResources('AWS::ApiGatewayV2::Authorizer', { Properties: { AuthorizerType: 'JWT' } }),
    )[0]!.Properties;
    expect(authorizer.IdentitySource).toEqual(['$request.header.Authorization']);
    expect(JSON.stringify(authorizer.JwtConfiguration.Issuer)).toMatch(/UserPool\w*ProviderURL/);
    expect(JSON.stringify(authorizer.JwtConfiguration.Audience)).toMatch(/UserPoolApiClient/);
  });

  it('runs the Lambda authorizer on every principal request: simple responses, no identity source, no cache', () => {
    const authorizer = Object.values(
      dev.api.findResources('AWS::ApiGatewayV2::Authorizer', { Properties: { AuthorizerType: 'REQUEST' } }),
    )[0]!.Properties;
    expect(authorizer).toMatchObject({
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      AuthorizerResultTtlInSeconds: 0,
    });
    expect(authorizer).not.toHaveProperty('IdentitySource');
    const authorizerFn = dev.api.getResourceId('AWS::Lambda::Function');
    expect(JSON.stringify(authorizer.AuthorizerUri)).toContain(authorizerFn);
    dev.api.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [authorizerFn, 'Arn'] },
      Principal: 'apigateway.amazonaws.com',
    });
  });

  it('has a default stage with JSON access logs and throttling', () => {
    const stage = Object.values(dev.api.findResources('AWS::ApiGatewayV2::Stage'))[0]!.Properties;
    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { DetailedMetricsEnabled: false, ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 },
      AccessLogSettings: {
        DestinationArn: {
          'Fn::GetAtt': [
            dev.api.getResourceId('AWS::Logs::LogGroup', {
              Properties: { LogGroupName: '/aws/apigateway/platform-dev-api/access' },
            }),
            'Arn',
          ],
        },
      },
    });
    expect(JSON.parse(stage.AccessLogSettings.Format)).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
    });
  });

  it('outputs its URL', () => {
    dev.api.hasOutput('ApiUrl', {});
  });
});
