import { listAuditEvents as route } from '@platform/api/routes/identity/audit';
import { listAuditEvents } from '@platform/domain/identity/audit';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => listAuditEvents(access, query));
