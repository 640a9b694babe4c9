import { listPlatformAuditEvents as route } from '@platform/api/routes/identity/audit';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadAudit = lazy(() => import('@platform/domain/identity/audit'));

export const handler = httpHandler(route, async ({ query }) => {
  const { listPlatformAuditEvents } = await loadAudit();
  return listPlatformAuditEvents(query);
});
