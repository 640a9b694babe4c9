import { openApi as route } from '@platform/api/routes/platform';
import { httpHandler, reply } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadOpenapi = lazy(() => import('@platform/api/openapi'));

let document: string | undefined;

export const handler = httpHandler(route, async () => {
  // The document is built from every route's schemas: loaded on first call, not at a cold start.
  const { openApiDocument } = await loadOpenapi();
  document ??= JSON.stringify(openApiDocument({ includeLocal: Boolean(process.env.LOCAL_CLOUD) }));
  return reply(undefined, { headers: { 'content-type': 'application/json' }, raw: document });
});
