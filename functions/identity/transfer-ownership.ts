import { transferOwnership as route } from '@platform/api/routes/identity/members';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadMembers = lazy(() => import('@platform/domain/identity/members'));

export const handler = httpHandler(route, async ({ access, body }) => {
  const { transferOwnership } = await loadMembers();
  return transferOwnership(access, body.userId);
});
