import { adjustCredits as route } from '@platform/api/routes/billing/credits';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadAdjustments = lazy(() => import('@platform/domain/billing/adjustments'));

export const handler = httpHandler(route, async ({ access, body, event }) => {
  const { adjustCredits } = await loadAdjustments();
  return adjustCredits(access, body, event.headers?.['idempotency-key'] ?? event.requestContext.requestId);
});
