import { listPlatformAuditEvents as route } from '@platform/api/routes/hub/admin';
import { listPlatformAuditEvents } from '@platform/domain/hub/owners';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ query }) => listPlatformAuditEvents(query));
