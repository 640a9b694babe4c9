import { listPlatformAuditEvents as route } from '@platform/api/routes/identity/audit';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ query }) => {
  const { listPlatformAuditEvents } = await import('@platform/domain/identity/audit');
  return listPlatformAuditEvents(query);
});
