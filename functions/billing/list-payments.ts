import { listPayments as route } from '@platform/api/routes/billing/payments';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listPayments } = await import('@platform/domain/billing/payments');
  return listPayments(access.orgId, query);
});
