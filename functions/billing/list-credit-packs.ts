import { listCreditPacks as route } from '@platform/api/routes/billing/payments';
import { CREDIT_PACKS } from '@platform/domain/billing/credit-packs';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async () => ({ items: [...CREDIT_PACKS] }));
