import { recordManualPayment as route } from '@platform/api/routes/billing/payments';
import { httpHandler, reply } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => {
  const { recordManualPayment } = await import('@platform/domain/billing/payments');
  const { payment, created } = await recordManualPayment(access, body);
  // The same reference again is the same payment: answered as it is, not recorded twice.
  return reply(payment, { status: created ? 201 : 200 });
});
