import { listCreditTransactions as route } from '@platform/api/routes/billing/credits';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listTransactions } = await import('@platform/domain/billing/ledger');
  return listTransactions(access.orgId, query);
});
