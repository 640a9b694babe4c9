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
    });
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
});
