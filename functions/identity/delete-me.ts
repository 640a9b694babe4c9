import { deleteMe as route } from '@platform/api/routes/identity/me';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, event }) => {
  const { deleteAccount } = await import('@platform/domain/identity/account');
  const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } }).authorizer?.jwt
    ?.claims;
  await deleteAccount(userOf(caller).userId, String(claims?.username ?? userOf(caller).userId));
});
