import { answerMfaChallenge as route } from '@platform/api/routes/identity/auth';
import { deviceOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ body, event }) => {
  const { answerMfaChallenge } = await import('@platform/domain/identity/auth');
  return answerMfaChallenge(body.email, body.session, body.code, deviceOf(event));
});
