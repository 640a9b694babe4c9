import { getLimits as route } from '@platform/api/routes/billing/limits';
import { limitsWithUsage } from '@platform/domain/billing/limits';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => ({ items: await limitsWithUsage(access.org) }));
