import { listPlans as route } from '@platform/api/routes/billing/plans';
import { listPlans } from '@platform/domain/billing/plans';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async () => ({ items: await listPlans() }));
