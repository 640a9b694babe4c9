import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureFunctionsDir, fixtureRoutes } from './fixtures/routes.ts';
import { synthPlatform, type CfnResource, type Synthesized } from './synth.ts';

let dev: Synthesized;
beforeAll(() => {
  dev = synthPlatform({
    routes: fixtureRoutes,
    functionsDir: fixtureFunctionsDir,
    context: {
      authDomainPrefix: 'acme-ai-dev',
      callbackUrls: ['https://app.example.com/auth/callback', 'http://localhost:5173/auth/callback'],
    },
  });
});

const pool = () => Object.values(dev.auth.findResources('AWS::Cognito::UserPool'))[0] as CfnResource;
const client = () => Object.values(dev.auth.findResources('AWS::Cognito::UserPoolClient'))[0] as CfnResource;

describe('the user pool', () => {
  it('signs users in by email, lets them sign up and verifies the address', () => {
    expect(pool().Properties).toMatchObject({
      UsernameAttributes: ['email'],
      UsernameConfiguration: { CaseSensitive: false },
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
      AutoVerifiedAttributes: ['email'],
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
    });
    expect(pool().Properties.Schema).toContainEqual({ Name: 'name', Mutable: true, Required: false });
  });

  it('offers TOTP as the only, optional, second factor', () => {
    expect(pool().Properties).toMatchObject({ MfaConfiguration: 'OPTIONAL', EnabledMfas: ['SOFTWARE_TOKEN_MFA'] });
  });

  it('asks for strong passwords', () => {
    expect(pool().Properties.Policies.PasswordPolicy).toMatchObject({
      MinimumLength: 12,
      RequireLowercase: true,
      RequireUppercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
    });
  });

  it('has threat protection (plus feature plan, enforced)', () => {
    expect(pool().Properties).toMatchObject({ UserPoolTier: 'PLUS', UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' } });
  });

  it('has the admin group', () => {
    dev.auth.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'admin' });
  });

  it('serves the hosted UI on the configured domain prefix', () => {
    dev.auth.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'acme-ai-dev' });
  });

  it('has no federated identity provider unless switched on', () => {
    dev.auth.resourceCountIs('AWS::Cognito::UserPoolIdentityProvider', 0);
    expect(client().Properties.SupportedIdentityProviders).toEqual(['COGNITO']);
  });
});

describe('the API app client', () => {
  it('is public and signs in with USER_PASSWORD_AUTH and refresh tokens only', () => {
    expect(client().Properties).toMatchObject({
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
    });
  });

  it('issues one-hour access tokens and 30-day refresh tokens', () => {
    expect(client().Properties).toMatchObject({
      AccessTokenValidity: 60,
      IdTokenValidity: 60,
      RefreshTokenValidity: 30 * 24 * 60,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'minutes' },
    });
  });

  it('runs the hosted UI code flow with the configured callback URLs', () => {
    expect(client().Properties).toMatchObject({
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email', 'profile', 'aws.cognito.signin.user.admin'],
      CallbackURLs: ['https://app.example.com/auth/callback', 'http://localhost:5173/auth/callback'],
    });
  });
});

describe('the post-confirmation trigger', () => {
  const triggerId = () => dev.auth.getResourceId('AWS::Lambda::Function');

  it('is the pool trigger, invocable by Cognito for this pool only', () => {
    expect(pool().Properties.LambdaConfig).toEqual({ PostConfirmation: { 'Fn::GetAtt': [triggerId(), 'Arn'] } });
    dev.auth.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [triggerId(), 'Arn'] },
      Principal: 'cognito-idp.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [dev.auth.getResourceId('AWS::Cognito::UserPool'), 'Arn'] },
    });
  });

  it('answers within the 5 seconds Cognito waits, on Node.js 22 / arm64', () => {
    dev.auth.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 5,
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('reads and writes the table, and does not depend on the pool (no cycle)', () => {
    const trigger = Object.values(dev.auth.findResources('AWS::Lambda::Function'))[0] as CfnResource;
    expect(Object.keys(trigger.Properties.Environment.Variables)).toEqual(expect.arrayContaining(['TABLE_NAME', 'KMS_KEY_ID']));
    expect(trigger.Properties.Environment.Variables).not.toHaveProperty('USER_POOL_ID');
    dev.auth.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'TableItems', Action: Match.arrayWith(['dynamodb:PutItem', 'dynamodb:Query']) }),
        ]),
      },
    });
    const policies = JSON.stringify(dev.auth.findResources('AWS::IAM::Policy'));
    expect(policies).not.toContain('cognito-idp');
    expect(policies).not.toContain(dev.auth.getResourceId('AWS::Cognito::UserPool'));
  });
});
