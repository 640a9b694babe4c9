import { stripeWebhook as route } from '@platform/api/routes/billing/payments';
import { httpHandler } from '@platform/http/handler';
import { logger } from '@platform/http/observability';
import { lazy } from '@platform/domain/shared/lazy';

const loadWebhooks = lazy(() => import('@platform/domain/billing/stripe/webhooks'));

/** The raw body, as Stripe signed it: this route has no body schema, so the HTTP kit never parses it. */
export const handler = httpHandler(route, async ({ event }) => {
  const { handleStripeWebhook } = await loadWebhooks();
  const raw =
    event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const handled = await handleStripeWebhook(raw, event.headers?.['stripe-signature']);
  logger.info('Stripe event', { eventId: handled.eventId, outcome: handled.outcome, orgId: handled.orgId });
  return { received: true as const, eventId: handled.eventId, outcome: handled.outcome };
});
