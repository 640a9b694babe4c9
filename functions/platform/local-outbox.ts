import { localOutbox as route } from '@platform/api/routes/platform';
import { httpHandler } from '@platform/http/handler';

/**
 * Local cloud only (never deployed): the mail that would have been sent. The local cloud
 * registers its outbox on `globalThis` before serving.
 */
type Outbox = { list(filter?: { to?: string }): unknown[] };

export const handler = httpHandler(route, async ({ query }) => {
  const outbox = (globalThis as { __localOutbox?: Outbox }).__localOutbox;
  return { items: (outbox?.list(query.to ? { to: query.to.toLowerCase() } : undefined) ?? []) as never[] };
});
