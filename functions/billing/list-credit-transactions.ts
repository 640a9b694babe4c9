import { listCreditTransactions as route } from '@platform/api/routes/billing/credits';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadLedger = lazy(() => import('@platform/domain/billing/ledger'));

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listTransactions } = await loadLedger();
  return listTransactions(access.orgId, query);
});
