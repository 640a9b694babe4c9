import { adjustCredits as route } from '@platform/api/routes/billing/credits';
import { adjustCredits } from '@platform/domain/billing/adjustments';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body, event }) =>
  adjustCredits(access, body, event.headers?.['idempotency-key'] ?? event.requestContext.requestId),
);
