import { health as route } from '@platform/api/routes/platform';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async () => ({ status: 'ok' as const }));
