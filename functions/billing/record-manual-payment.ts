import { recordManualPayment as route } from '@platform/api/routes/billing/payments';
import { httpHandler, reply } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadPayments = lazy(() => import('@platform/domain/billing/payments'));

export const handler = httpHandler(route, async ({ access, body }) => {
  const { recordManualPayment } = await loadPayments();
  const { payment, created } = await recordManualPayment(access, body);
  // The same reference again is the same payment: answered as it is, not recorded twice.
  return reply(payment, { status: created ? 201 : 200 });
});
