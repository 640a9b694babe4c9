import { listAuditEvents as route } from '@platform/api/routes/identity/audit';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => {
  const { listAuditEvents } = await import('@platform/domain/identity/audit');
  return listAuditEvents(access, query);
});
