import { getCredits as route } from '@platform/api/routes/billing/credits';
import { getBalance } from '@platform/domain/billing/ledger';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => getBalance(access.orgId));
