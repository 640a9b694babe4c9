import { adjustCredits as route } from '@platform/api/routes/billing/credits';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body, event }) => {
  const { adjustCredits } = await import('@platform/domain/billing/adjustments');
  return adjustCredits(access, body, event.headers?.['idempotency-key'] ?? event.requestContext.requestId);
});
