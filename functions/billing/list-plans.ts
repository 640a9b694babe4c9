import { listPlans as route } from '@platform/api/routes/billing/plans';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async () => {
  const { listPlans } = await import('@platform/domain/billing/plans');
  return { items: await listPlans() };
});
