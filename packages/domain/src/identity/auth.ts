import { clock } from '../shared/clock.ts';
import { ConflictError, ValidationError } from '../shared/errors.ts';
import { db } from './entities.ts';
import { identityProvider, type Tokens } from './cognito.ts';
import { openSession, signOutEverywhereAfterReset, subjectOf, type Device } from './sessions.ts';

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

/** How long a reset whose sign-out failed may be finished by its retry. */
const PENDING_SIGN_OUT_SECONDS = 86_400;

/**
 * Sets the new password with the emailed code, then signs every device out (`signOutEverywhereAfterReset`). The
 * code is spent at Cognito as the password changes, before the sign-out: a sign-out that fails then (Cognito
 * throttling it, say: a 429 asking for a retry) is recorded as pending, as the retry's code will be refused as a
 * wrong one. A refused code finishes a pending sign-out, and is a 204 to a caller who holds the new password.
 * With none pending, a refused code is refused as it was, whether or not the address exists, and no password is
 * tried at Cognito: the route tells no one whether a password is right, nor signs anyone out on the current one.
 */
export async function resetPassword(email: string, code: string, password: string) {
  try {
    await identityProvider.confirmForgotPassword(email, code, password);
  } catch (error) {
    if (!isCodeRefused(error) || !(await finishPendingSignOut(email, password))) throw error;
    return;
  }
  await recordingPendingSignOut(email, () => signOutEverywhereAfterReset(email));
  // Every device is signed out now: an earlier reset's pending sign-out is done, and must not sign out those
  // signed in from here on, nor let a made-up code try a password.
  await db.pendingResetSignOut.delete({ email: email.toLowerCase() }).go();
}

/**
 * Finishes the sign-out of the address's reset if one is pending, and answers whether the caller holds the new
 * password; false, with no sign-in tried, when none is pending. The sign-in comes first, so that the sign-out
 * everywhere ends the tokens it was issued.
 */
async function finishPendingSignOut(email: string, password: string): Promise<boolean> {
  if (!(await takePendingSignOut(email))) return false;
  return recordingPendingSignOut(email, async () => {
    const held = await holdsPassword(email, password);
    await signOutEverywhereAfterReset(email);
    return held;
  });
}

/** Runs a step of a reset's sign-out; if it fails, the sign-out is recorded as pending, for the retry asked. */
async function recordingPendingSignOut<T>(email: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const ttl = clock.epochSeconds() + PENDING_SIGN_OUT_SECONDS;
    await db.pendingResetSignOut.put({ email: email.toLowerCase(), ttl }).go();
    throw error;
  }
}

/** Removes the address's pending sign-out, in one request (two retries at once: one finishes it); whether one was due. */
async function takePendingSignOut(email: string): Promise<boolean> {
  const { data } = await db.pendingResetSignOut.delete({ email: email.toLowerCase() }).go({ response: 'all_old' });
  // DynamoDB's TTL removes a row some time after it expires, not at once.
  return Boolean(data && data.ttl > clock.epochSeconds());
}

const isCodeRefused = (error: unknown) =>
  error instanceof ValidationError && (error.fieldErrors ?? []).some((f) => f.path === 'body.code');

/**
 * Whether Cognito accepts the password for the address: it issues tokens, or asks for the MFA code (asked only
 * after the password). The tokens issued are not kept: the sign-out everywhere that follows ends them. Asked only
 * of a reset whose sign-out is pending, as each wrong password counts towards Cognito's lockout. A refusal
 * (401, 403) is a no; anything else (a 429) is thrown, for a retry to ask again.
 */
async function holdsPassword(email: string, password: string): Promise<boolean> {
  try {
    await identityProvider.signIn(email, password);
    return true;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 401 || status === 403) return false;
    throw error;
  }
}

/**
 * Refused while MFA is on: a new secret unseats the enrolled authenticator before it is verified, so a set-up
 * abandoned half-way leaves sign-in asking for no code on AWS (the note on AssociateSoftwareToken) and refusing
 * every code locally, while the profile still says MFA on. Moving to another authenticator is disable, then set up.
 */
export async function startMfaSetup(accessToken: string, profile: { email: string; mfaEnabled?: boolean }) {
  if (profile.mfaEnabled) throw new ConflictError('MFA is already on: disable it first');
  const secretCode = await identityProvider.startTotpSetup(accessToken);
  const issuer = encodeURIComponent(process.env.MFA_ISSUER ?? 'Platform');
  return {
    secretCode,
    otpauthUri: `otpauth://totp/${issuer}:${encodeURIComponent(profile.email)}?secret=${secretCode}&issuer=${issuer}&algorithm=SHA1&digits=6&period=30`,
  };
}

/** Writes of the profile's flag one request makes at most (the routes' DynamoDB budget), if Cognito keeps changing. */
const MFA_FLAG_WRITES = 3;

/**
 * Turns TOTP on (with a code from the app) or off. Cognito decides what sign-in asks for; the profile's
 * `mfaEnabled` only mirrors it. A verify and a disable running together may write the flag in the other order
 * than they changed Cognito, so after writing we read Cognito again and write what it holds until both agree:
 * the request that writes last has then seen Cognito's final state.
 */
export async function setMfa(accessToken: string, code: string | undefined) {
  if (code) await identityProvider.finishTotpSetup(accessToken, code);
  else await identityProvider.disableTotp(accessToken);
  const mfaEnabled = Boolean(code);
  const userId = subjectOf(accessToken);
  let flag = mfaEnabled;
  for (let write = 0; write < MFA_FLAG_WRITES; write++) {
    await db.user.patch({ userId }).set({ mfaEnabled: flag }).go();
    const held = await identityProvider.totpEnabled(accessToken);
    if (held === flag) break;
    flag = held;
  }
  return { mfaEnabled };
}
