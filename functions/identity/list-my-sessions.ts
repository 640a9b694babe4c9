import { listMySessions as route } from '@platform/api/routes/identity/me';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadSessions = lazy(() => import('@platform/domain/identity/sessions'));

export const handler = httpHandler(route, async ({ caller, query, event }) => {
  const { listSessions, sessionView } = await loadSessions();
  const page = await listSessions(userOf(caller).userId, query);
  const current = event.headers?.['x-session-id'];
  return { items: page.items.map((s) => sessionView(s, current)), nextCursor: page.nextCursor };
});
