import { setLimitOverride as route } from '@platform/api/routes/billing/limits';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => {
  const { setLimitOverride } = await import('@platform/domain/billing/limit-overrides');
  const { limitsWithUsage } = await import('@platform/domain/billing/limits');
  return {
    items: await limitsWithUsage(await setLimitOverride(access, body)),
  };
});
