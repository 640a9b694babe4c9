import { recordManualPayment as route } from '@platform/api/routes/billing/payments';
import { manualPaymentReads, recordManualPayment } from '@platform/domain/billing/payments';
import { httpHandler, reply } from '@platform/http/handler';

export const handler = httpHandler(
  route,
  async ({ access, body }) => {
    const { payment, created } = await recordManualPayment(access, body);
    // The same reference again is the same payment: answered as it is, not recorded twice.
    return reply(payment, { status: created ? 201 : 200 });
  },
  // Read with the authorization, in its one request: the payment, the subscription it pays, the sale order's owner.
  { preload: ({ params, body }) => manualPaymentReads(params.orgId, body) },
);
