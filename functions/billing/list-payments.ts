import { listPayments as route } from '@platform/api/routes/billing/payments';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadPayments = lazy(() => import('@platform/domain/billing/payments'));

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listPayments } = await loadPayments();
  return listPayments(access.orgId, query);
});
