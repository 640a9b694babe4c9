import { signStripePayload } from '@platform/domain/billing/stripe/signature';

/**
 * Stripe webhook deliveries as Lambda events (API Gateway HTTP API v2), such as the sample
 * `events/stripe-webhook.json`: a signature is only good for five minutes, so a stored event
 * is signed again, with the secret of the stage it goes to, just before it is sent.
 */
export interface WebhookEvent {
  headers: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
  [key: string]: unknown;
}

/** The raw body, as Stripe signed it. */
export const bodyOf = (event: WebhookEvent) =>
  event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;

/** A copy of `event` whose `stripe-signature` header signs its body with `secret` at `timestamp` (now). */
export function resignWebhookEvent<E extends WebhookEvent>(event: E, secret: string, timestamp?: number): E {
  return { ...event, headers: { ...event.headers, 'stripe-signature': signStripePayload(bodyOf(event), secret, timestamp) } };
}
