import { stripeWebhook as route } from '@platform/api/routes/billing/payments';
import { handleStripeWebhook } from '@platform/domain/billing/stripe/webhooks';
import { httpHandler } from '@platform/http/handler';
import { logger } from '@platform/http/observability';

/** The raw body, as Stripe signed it: this route has no body schema, so the HTTP kit never parses it. */
export const handler = httpHandler(route, async ({ event }) => {
  const raw =
    event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const handled = await handleStripeWebhook(raw, event.headers?.['stripe-signature']);
  const facts = { eventId: handled.eventId, outcome: handled.outcome, orgId: handled.orgId };
  if (handled.outcome !== 'unknown-organization') {
    logger.info('Stripe event', facts);
    return { received: true as const, eventId: handled.eventId, outcome: handled.outcome };
  }
  // Signed by Stripe, yet about no organization of ours: acknowledged (Stripe would retry an error for days), applied nowhere.
  logger.warn('Stripe event for an organization that does not exist: ignored', facts);
  return {
    received: true as const,
    eventId: handled.eventId,
    outcome: handled.outcome,
    ignored: `The organization ${handled.orgId} does not exist: nothing was applied`,
  };
});
