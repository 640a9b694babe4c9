import { createCheckout as route } from '@platform/api/routes/billing/payments';
import type { CheckoutInput } from '@platform/domain/billing/checkout';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body, event }) => {
  const { createCheckout } = await import('@platform/domain/billing/checkout');
  return createCheckout(access, body as CheckoutInput, event.headers?.['idempotency-key']);
});
