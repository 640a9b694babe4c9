import { listPayments as route } from '@platform/api/routes/billing/payments';
import { listPayments } from '@platform/domain/billing/payments';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => listPayments(access.orgId, query));
