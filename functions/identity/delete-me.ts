import { deleteMe as route } from '@platform/api/routes/identity/me';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadAccount = lazy(() => import('@platform/domain/identity/account'));

export const handler = httpHandler(route, async ({ caller, event }) => {
  const { deleteAccount } = await loadAccount();
  const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } }).authorizer?.jwt
    ?.claims;
  await deleteAccount(userOf(caller).userId, String(claims?.username ?? userOf(caller).userId));
});
