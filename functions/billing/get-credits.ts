import { getCredits as route } from '@platform/api/routes/billing/credits';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadLedger = lazy(() => import('@platform/domain/billing/ledger'));

export const handler = httpHandler(route, async ({ access }) => {
  const { getBalance } = await loadLedger();
  return getBalance(access.orgId);
});
