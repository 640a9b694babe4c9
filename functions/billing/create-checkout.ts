import { createCheckout as route } from '@platform/api/routes/billing/payments';
import type { CheckoutInput } from '@platform/domain/billing/checkout';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadCheckout = lazy(() => import('@platform/domain/billing/checkout'));

export const handler = httpHandler(route, async ({ access, body, event }) => {
  const { createCheckout } = await loadCheckout();
  return createCheckout(access, body as CheckoutInput, event.headers?.['idempotency-key']);
});
