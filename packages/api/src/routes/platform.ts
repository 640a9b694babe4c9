import * as z from 'zod';
import { defineRoute } from '@platform/http/route';

const tag = 'Platform';

export const health = defineRoute({
  id: 'health',
  method: 'GET',
  path: '/health',
  handler: 'platform/health',
  auth: 'public',
  tag,
  summary: 'Liveness',
  schemas: { response: z.object({ status: z.literal('ok') }) },
});
export const openApi = defineRoute({
  id: 'openApi',
  method: 'GET',
  path: '/openapi.json',
  handler: 'platform/openapi',
  auth: 'public',
  tag,
  summary: 'This API, described in OpenAPI 3.1',
  schemas: {},
});
export const docs = defineRoute({
  id: 'docs',
  method: 'GET',
  path: '/docs',
  produces: 'text/html',
  handler: 'platform/docs',
  auth: 'public',
  tag,
  summary: 'Interactive API documentation',
  schemas: {},
});
export const localOutbox = defineRoute({
  id: 'localOutbox',
  method: 'GET',
  path: '/local/outbox',
  handler: 'platform/local-outbox',
  auth: 'public',
  tag,
  localOnly: true,
  summary: 'Mail the local cloud would have sent (local only)',
  schemas: {
    query: z.object({ to: z.string().max(254).optional() }),
    response: z.object({
      items: z.array(
        z.object({
          id: z.string(),
          at: z.string(),
          to: z.string(),
          subject: z.string(),
          body: z.string(),
          kind: z.string(),
          code: z.string().optional(),
          link: z.string().optional(),
        }),
      ),
    }),
  },
});
