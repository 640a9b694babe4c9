import { getCredits as route } from '@platform/api/routes/billing/credits';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => {
  const { getBalance } = await import('@platform/domain/billing/ledger');
  return getBalance(access.orgId);
});
