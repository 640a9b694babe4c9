import { db } from './entities.ts';
import { identityProvider, type Tokens } from './cognito.ts';
import { openSession, subjectOf, type Device } from './sessions.ts';

/**
 * Sign-in flows for plain HTTP clients, over Cognito. Each successful sign-in opens a
 * Session (the device list of /v1/me/sessions).
 */
export async function signIn(email: string, password: string, device: Device) {
  const result = await identityProvider.signIn(email, password);
  if (result.kind === 'challenge') return { challenge: result.challenge, session: result.session };
  return withSession(result.tokens, device);
}

export async function answerMfaChallenge(email: string, session: string, code: string, device: Device) {
  return withSession(await identityProvider.answerMfaChallenge(email, session, code), device);
}

async function withSession(tokens: Tokens, device: Device) {
  const sessionId = await openSession(tokens, device);
  return { ...tokens, sessionId };
}

/** Never says whether the account exists: the answer is the same either way. */
export async function requestPasswordReset(email: string) {
  await identityProvider.forgotPassword(email).catch((error: unknown) => {
    if ((error as { status?: number }).status !== 401) throw error;
  });
}

export async function startMfaSetup(accessToken: string, email: string) {
  const secretCode = await identityProvider.startTotpSetup(accessToken);
  const issuer = encodeURIComponent(process.env.MFA_ISSUER ?? 'Platform');
  return {
    secretCode,
    otpauthUri: `otpauth://totp/${issuer}:${encodeURIComponent(email)}?secret=${secretCode}&issuer=${issuer}&algorithm=SHA1&digits=6&period=30`,
  };
}

export async function setMfa(accessToken: string, code: string | undefined) {
  if (code) await identityProvider.finishTotpSetup(accessToken, code);
  else await identityProvider.disableTotp(accessToken);
  const mfaEnabled = Boolean(code);
  await db.user
    .patch({ userId: subjectOf(accessToken) })
    .set({ mfaEnabled })
    .go();
  return { mfaEnabled };
}
