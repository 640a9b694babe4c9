import { answerMfaChallenge as route } from '@platform/api/routes/identity/auth';
import { deviceOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadAuth = lazy(() => import('@platform/domain/identity/auth'));

export const handler = httpHandler(route, async ({ body, event }) => {
  const { answerMfaChallenge } = await loadAuth();
  return answerMfaChallenge(body.email, body.session, body.code, deviceOf(event));
});
