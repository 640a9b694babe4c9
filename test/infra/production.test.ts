import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureFunctionsDir, fixtureRoutes } from './fixtures/routes.ts';
import { synthPlatform, type Synthesized } from './synth.ts';

/** A production stage with every switch on, given as the CLI would (`-c key=<json>`). */
let prod: Synthesized;
beforeAll(() => {
  prod = synthPlatform({
    routes: fixtureRoutes,
    functionsDir: fixtureFunctionsDir,
    context: {
      stage: 'prod',
      google: JSON.stringify({ clientId: 'google-client-id' }),
      facebook: { clientId: 'facebook-app-id', clientSecretName: 'prod/facebook' },
      apple: { clientId: 'com.example.signin', teamId: 'TEAM123456', keyId: 'KEY1234567' },
      cognitoEmail: 'ses',
      mailFrom: 'hello@mail.example.com',
      throttling: '{"burstLimit": 500, "rateLimit": 250}',
      logRetentionDays: '365',
    },
  });
});

describe('a production stage', () => {
  it('names its stacks after the stage and protects them from deletion', () => {
    expect(prod.platform.data.stackName).toBe('platform-prod-data');
    expect(prod.platform.data.terminationProtection).toBe(true);
  });

  it('keeps the table and the user pool, with deletion protection', () => {
    prod.data.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ Replicas: [Match.objectLike({ DeletionProtectionEnabled: true })] }),
    });
    prod.auth.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtection: 'ACTIVE' }),
    });
  });

  it('keeps a year of logs', () => {
    const retentions = Object.values(prod.api.findResources('AWS::Logs::LogGroup')).map((g) => g.Properties.RetentionInDays);
    expect(new Set(retentions)).toEqual(new Set([365]));
  });

  it('throttles the API stage as configured and keeps per-route metrics', () => {
    prod.api.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { DetailedMetricsEnabled: true, ThrottlingBurstLimit: 500, ThrottlingRateLimit: 250 },
    });
  });

  it('sends Cognito mail through SES from the configured address', () => {
    prod.auth.hasResourceProperties('AWS::Cognito::UserPool', {
      EmailConfiguration: Match.objectLike({ EmailSendingAccount: 'DEVELOPER', From: 'hello@mail.example.com' }),
    });
  });
});

describe('federated sign-in switched on by context', () => {
  it('creates Google, Facebook and Apple providers and offers them on the app client', () => {
    for (const type of ['Google', 'Facebook', 'SignInWithApple']) {
      prod.auth.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', { ProviderType: type });
    }
    prod.auth.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      SupportedIdentityProviders: ['COGNITO', 'Google', 'Facebook', 'SignInWithApple'],
    });
  });

  it('reads every secret from Secrets Manager by name, never from the template', () => {
    const details = Object.values(prod.auth.findResources('AWS::Cognito::UserPoolIdentityProvider')).map(
      (p) => p.Properties.ProviderDetails,
    );
    expect(details).toContainEqual(
      expect.objectContaining({
        client_id: 'google-client-id',
        client_secret: '{{resolve:secretsmanager:platform-prod/google-client-secret:SecretString:::}}',
      }),
    );
    expect(details).toContainEqual(
      expect.objectContaining({
        client_id: 'facebook-app-id',
        client_secret: '{{resolve:secretsmanager:prod/facebook:SecretString:::}}',
      }),
    );
    expect(details).toContainEqual(
      expect.objectContaining({
        client_id: 'com.example.signin',
        team_id: 'TEAM123456',
        key_id: 'KEY1234567',
        private_key: '{{resolve:secretsmanager:platform-prod/apple-private-key:SecretString:::}}',
      }),
    );
  });

  it('leaves no AwsSolutions finding unacknowledged', () => {
    expect(prod.nagFindings).toEqual([]);
  });
});
