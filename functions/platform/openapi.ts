import { openApi as route } from '@platform/api/routes/platform';
import { openApiDocument } from '@platform/api/openapi';
import { httpHandler, reply } from '@platform/http/handler';

let document: string | undefined;

export const handler = httpHandler(route, async () => {
  document ??= JSON.stringify(openApiDocument({ includeLocal: Boolean(process.env.LOCAL_CLOUD) }));
  return reply(undefined, { headers: { 'content-type': 'application/json' }, raw: document });
});
