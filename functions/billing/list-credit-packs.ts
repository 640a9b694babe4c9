import { listCreditPacks as route } from '@platform/api/routes/billing/payments';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async () => {
  const { CREDIT_PACKS } = await import('@platform/domain/billing/credit-packs');
  return { items: [...CREDIT_PACKS] };
});
