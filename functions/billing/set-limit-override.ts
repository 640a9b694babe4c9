import { setLimitOverride as route } from '@platform/api/routes/billing/limits';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadLimitOverrides = lazy(() => import('@platform/domain/billing/limit-overrides'));
const loadLimits = lazy(() => import('@platform/domain/billing/limits'));

export const handler = httpHandler(route, async ({ access, body }) => {
  const { setLimitOverride } = await loadLimitOverrides();
  const { limitsWithUsage } = await loadLimits();
  return {
    items: await limitsWithUsage(await setLimitOverride(access, body)),
  };
});
