import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientConfig } from '../../shared/aws.ts';

/**
 * Where Stripe's secrets come from. On AWS, one Secrets Manager secret (`STRIPE_SECRET_ID`,
 * its name or ARN; a JSON `{ "apiKey": "sk_…", "webhookSecret": "whsec_…" }`), read once per container; locally
 * and in tests, `STRIPE_API_KEY` and `STRIPE_WEBHOOK_SECRET` (the local cloud sets a fixed dev
 * secret and writes it into `.local/dev.json`). `STRIPE_API_BASE` points the adapter at a
 * stand-in (the local Stripe); Stripe's own API otherwise.
 */
export interface StripeConfig {
  apiKey: string;
  webhookSecret: string;
  apiBase: string;
}

const DEFAULT_API_BASE = 'https://api.stripe.com';
let cached: Promise<StripeConfig> | undefined;

async function load(): Promise<StripeConfig> {
  const apiBase = (process.env.STRIPE_API_BASE ?? DEFAULT_API_BASE).replace(/\/+$/, '');
  const secretId = process.env.STRIPE_SECRET_ID;
  if (!secretId) {
    const { STRIPE_API_KEY: apiKey, STRIPE_WEBHOOK_SECRET: webhookSecret } = process.env;
    if (!apiKey || !webhookSecret)
      throw new Error('Stripe is not configured: set STRIPE_SECRET_ID, or STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET');
    return { apiKey, webhookSecret, apiBase };
  }
  const client = new SecretsManagerClient(awsClientConfig('secretsmanager'));
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  const secret = JSON.parse(SecretString ?? '{}') as Partial<StripeConfig>;
  if (!secret.apiKey || !secret.webhookSecret) throw new Error('The Stripe secret must hold apiKey and webhookSecret');
  return { apiKey: secret.apiKey, webhookSecret: secret.webhookSecret, apiBase };
}

export function stripeConfig(): Promise<StripeConfig> {
  cached ??= load().catch((error) => {
    cached = undefined; // a failed read is retried by the next request
    throw error;
  });
  return cached;
}

/** Tests that change the environment read it again. */
export const forgetStripeConfig = () => {
  cached = undefined;
};
