import { openApi as route } from '@platform/api/routes/platform';
import { openApiJson } from '@platform/api/openapi-json';
import { httpHandler, reply } from '@platform/http/handler';

export const handler = httpHandler(route, async () =>
  reply(undefined, { headers: { 'content-type': 'application/json' }, raw: openApiJson() }),
);
