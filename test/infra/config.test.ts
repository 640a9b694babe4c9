import { describe, expect, it } from 'vitest';
import { readConfig } from '../../infra/config.ts';

const configWith = (context: Record<string, unknown>) => readConfig({ tryGetContext: (key: string) => context[key] });

describe('deployment settings from CDK context', () => {
  it('default to a development stage served from localhost', () => {
    expect(configWith({})).toMatchObject({
      stage: 'dev',
      isProduction: false,
      prefix: 'platform-dev',
      authDomainPrefix: 'ai-platform-dev',
      corsOrigins: ['http://localhost:5173'],
      callbackUrls: ['http://localhost:5173/auth/callback'],
      logoutUrls: ['http://localhost:5173/'],
      mailFrom: 'no-reply@example.com',
      cognitoEmail: 'cognito',
      cognitoFeaturePlan: 'plus',
      federation: {},
      throttling: { burstLimit: 200, rateLimit: 100 },
      logRetention: 30,
      tracing: 'xray',
    });
  });

  it('turn the Powertools Tracer on with `tracing`, and refuse a value it does not know', () => {
    expect(configWith({ tracing: 'powertools' }).tracing).toBe('powertools');
    expect(configWith({ tracing: 'xray' }).tracing).toBe('xray');
    expect(() => configWith({ tracing: 'on' })).toThrow('context "tracing" must be one of xray, powertools');
    expect(() => configWith({ tracing: true })).toThrow(/tracing/);
  });

  it('accept lists and objects as JSON or comma-separated strings, as `-c` gives them', () => {
    const config = configWith({
      stage: 'prod',
      corsOrigins: 'https://app.example.com, https://admin.example.com',
      callbackUrls: '["https://app.example.com/cb"]',
      throttling: '{"burstLimit":"50","rateLimit":25}',
      google: '{"clientId":"abc"}',
    });
    expect(config).toMatchObject({
      isProduction: true,
      appUrl: 'https://app.example.com',
      corsOrigins: ['https://app.example.com', 'https://admin.example.com'],
      callbackUrls: ['https://app.example.com/cb'],
      throttling: { burstLimit: 50, rateLimit: 25 },
      federation: { google: { clientId: 'abc', clientSecretName: 'platform-prod/google-client-secret' } },
      logRetention: 365,
    });
  });

  it('reject settings that would fail at deploy time', () => {
    expect(() => configWith({ stage: 'Prod_1' })).toThrow(/stage/);
    expect(() => configWith({ authDomainPrefix: 'my-cognito-app' })).toThrow(/authDomainPrefix/);
    expect(() => configWith({ mailFrom: 'nobody' })).toThrow(/mailFrom/);
    expect(() => configWith({ apple: { clientId: 'a' } })).toThrow(/apple.teamId/);
    expect(() => configWith({ throttling: { rateLimit: 0 } })).toThrow(/rateLimit/);
    expect(() => configWith({ logRetentionDays: 42 })).toThrow(/logRetentionDays/);
    expect(() => configWith({ cognitoFeaturePlan: 'lite' })).toThrow(/cognitoFeaturePlan/);
  });

  it('refuse a key an object setting does not know, naming it and the accepted ones, rather than drop it', () => {
    expect(() => configWith({ google: '{"clientId":"abc","secretName":"my/secret"}' })).toThrow(
      'context "google" has no setting "secretName"; it accepts clientId, clientSecretName',
    );
    expect(() => configWith({ facebook: { clientId: 'a', apiversion: 'v19.0' } })).toThrow(/"apiversion".*apiVersion/);
    expect(() => configWith({ apple: { clientId: 'a', teamId: 't', keyId: 'k', privateKey: 'x' } })).toThrow(/"privateKey"/);
    expect(() => configWith({ throttling: { burst: 10 } })).toThrow(/"burst".*burstLimit, rateLimit/);
  });
});
