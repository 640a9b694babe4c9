import { stripeWebhook as route } from '@platform/api/routes/billing/payments';
import { handleStripeWebhook } from '@platform/domain/billing/stripe/webhooks';
import { httpHandler } from '@platform/http/handler';
import { logger } from '@platform/http/observability';

/**
 * Signed by Stripe, yet applied nowhere: acknowledged all the same (Stripe would retry an error
 * for days), with why, and a warning for the operators.
 */
const IGNORED: Partial<Record<string, (orgId: string | undefined) => string>> = {
  'unknown-organization': (orgId) => `The organization ${orgId} does not exist or was deleted: nothing was applied`,
  'payment-of-another-organization': (orgId) =>
    `This payment is already recorded for another organization than ${orgId}: nothing was applied`,
  'unknown-payment': () => 'The refunded or disputed payment is not one recorded here: nothing was applied',
  'unknown-credit-pack': (orgId) =>
    `The payment names a credit pack that is not sold here: it is recorded for ${orgId}, and no credits were granted`,
};

/** The raw body, as Stripe signed it: this route has no body schema, so the HTTP kit never parses it. */
export const handler = httpHandler(route, async ({ event }) => {
  const raw =
    event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const handled = await handleStripeWebhook(raw, event.headers?.['stripe-signature']);
  const facts = { eventId: handled.eventId, outcome: handled.outcome, orgId: handled.orgId };
  const answer = { received: true as const, eventId: handled.eventId, outcome: handled.outcome };
  const ignored = IGNORED[handled.outcome]?.(handled.orgId);
  if (!ignored) {
    logger.info('Stripe event', facts);
    return answer;
  }
  logger.warn(`Stripe event ignored: ${handled.outcome}`, facts);
  return { ...answer, ignored };
});
