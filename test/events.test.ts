import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callerFromEvent } from '@platform/http/caller';
import { verifyStripeSignature } from '@platform/domain/billing/stripe/signature';
import { personalOrgId } from '@platform/domain/identity/users';
import { LOCAL_STRIPE_WEBHOOK_SECRET } from '@platform/local/cloud';
import { localLambdaContext } from '@platform/local/lambda-context';
import { resignWebhookEvent } from '@platform/local/stripe-events';

/** The sample events in events/ stay valid inputs for the code that reads them. */
const load = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '../events', name), 'utf8'));

describe('sample events', () => {
  it('get-me.json carries a platform admin as API Gateway renders JWT claims', () => {
    expect(callerFromEvent(load('get-me.json'))).toMatchObject({ kind: 'user', isPlatformAdmin: true, groups: ['admin'] });
  });

  it('create-org.json has a valid body for its route', async () => {
    const { createOrg } = await import('@platform/api/routes/identity/orgs');
    const event = load('create-org.json');
    expect(event.routeKey).toBe(`${createOrg.method} ${createOrg.path}`);
    expect(createOrg.schemas.body.safeParse(JSON.parse(event.body)).success).toBe(true);
  });

  it('authorizer-api-key.json is refused by the authorizer (no such key), without an error', async () => {
    const { handler } = await import('../functions/identity/authorizer.ts');
    expect(await handler(load('authorizer-api-key.json'))).toEqual({ isAuthorized: false, context: {} });
  });

  it('post-confirmation.json’s user is not the one the README signs up: `npm run dev` provisions it, past Cognito', () => {
    // Two profiles of one address: an invitation to the README's user would notify the sample's.
    const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
    const walkthrough = /^EMAIL=(\S+)$/m.exec(readme)![1];
    expect(load('post-confirmation.json').request.userAttributes.email).not.toBe(walkthrough);
  });

  it('post-confirmation.json provisions its user, and again without change', async () => {
    const { handler } = await import('../functions/identity/post-confirmation.ts');
    const event = load('post-confirmation.json');
    expect(await handler(event)).toEqual(event);
    expect(await handler(event)).toEqual(event);
  });

  it('stripe-webhook.json is a signed Stripe checkout for the webhook route that, signed again, the handler applies once', async () => {
    const { stripeWebhook } = await import('@platform/api/routes/billing/payments');
    const event = load('stripe-webhook.json');
    expect(event.routeKey).toBe(`${stripeWebhook.method} ${stripeWebhook.path}`);
    const stripeEvent = JSON.parse(event.body);
    expect(stripeEvent).toMatchObject({ type: 'checkout.session.completed', data: { object: { mode: 'payment' } } });
    // It pays a credit pack for the personal organization of the user in post-confirmation.json.
    const { sub } = load('post-confirmation.json').request.userAttributes;
    expect(stripeEvent.data.object.metadata).toMatchObject({ orgId: personalOrgId(sub), kind: 'credit-pack' });

    // The stored signature is genuine, for its time; too old now, until signed again.
    const stored = event.headers['stripe-signature'];
    const signedAt = Number(/t=(\d+)/.exec(stored)![1]) * 1000;
    expect(() => verifyStripeSignature(event.body, stored, LOCAL_STRIPE_WEBHOOK_SECRET, signedAt)).not.toThrow();
    expect(() => verifyStripeSignature(event.body, stored, LOCAL_STRIPE_WEBHOOK_SECRET)).toThrow(/tolerance/);
    const fresh = resignWebhookEvent(event, LOCAL_STRIPE_WEBHOOK_SECRET);
    expect(() => verifyStripeSignature(fresh.body, fresh.headers['stripe-signature'], LOCAL_STRIPE_WEBHOOK_SECRET)).not.toThrow();

    await (await import('../functions/identity/post-confirmation.ts')).handler(load('post-confirmation.json'));
    const { handler } = await import('../functions/billing/stripe-webhook.ts');
    const invoke = async (e: unknown) => {
      const result = await handler(e as never, localLambdaContext('stripe-webhook', 'us-east-1'));
      return { statusCode: result.statusCode, body: JSON.parse(result.body ?? '{}') };
    };
    const first = await invoke(fresh);
    expect(first).toMatchObject({ statusCode: 200, body: { received: true, eventId: stripeEvent.id } });
    // Applied on the first delivery of this cloud; every later one is recognised.
    expect(['applied', 'duplicate-event']).toContain(first.body.outcome);
    expect((await invoke(resignWebhookEvent(event, LOCAL_STRIPE_WEBHOOK_SECRET))).body.outcome).toBe('duplicate-event');
    expect((await invoke(event)).statusCode).toBe(400);
  });
});
