import { listCreditPacks as route } from '@platform/api/routes/billing/payments';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadCreditPacks = lazy(() => import('@platform/domain/billing/credit-packs'));

export const handler = httpHandler(route, async () => {
  const { CREDIT_PACKS } = await loadCreditPacks();
  return { items: [...CREDIT_PACKS] };
});
