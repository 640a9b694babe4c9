import { listPlatformAuditEvents as route } from '@platform/api/routes/identity/audit';
import { listPlatformAuditEvents } from '@platform/domain/identity/audit';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ query }) => listPlatformAuditEvents(query));
