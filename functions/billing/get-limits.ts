import { getLimits as route } from '@platform/api/routes/billing/limits';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access }) => {
  const { limitsWithUsage } = await import('@platform/domain/billing/limits');
  return { items: await limitsWithUsage(access.org) };
});
