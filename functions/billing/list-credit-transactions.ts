import { listCreditTransactions as route } from '@platform/api/routes/billing/credits';
import { listTransactions } from '@platform/domain/billing/ledger';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => listTransactions(access.orgId, query));
