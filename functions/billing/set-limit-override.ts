import { setLimitOverride as route } from '@platform/api/routes/billing/limits';
import { setLimitOverride } from '@platform/domain/billing/limit-overrides';
import { limitsWithUsage } from '@platform/domain/billing/limits';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => ({
  items: await limitsWithUsage(await setLimitOverride(access, body)),
}));
