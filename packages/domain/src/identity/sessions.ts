import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { decryptSecret, encryptSecret, sha256 } from '../shared/secrets.ts';
import { accountGone, accountRead, isAccountDeleted, requireLiveAccount } from './access.ts';
import { identityProvider, type Tokens } from './cognito.ts';
import { db, type Session, type User } from './entities.ts';
import { transactGet, transactWrite, put, update } from '../shared/transactions.ts';
import { pageOf } from '../shared/pages.ts';
import { conditionFailed } from '../shared/dynamo.ts';

/** Matches the app client's refresh-token validity (30 days). */
export const SESSION_LIFETIME_DAYS = 30;
const DAY_MS = 86_400_000;

export interface Device {
  ipAddress?: string;
  userAgent?: string;
  deviceInfo?: string;
}

export const sessionView = (s: Session, currentSessionId?: string) => ({
  sessionId: s.sessionId,
  deviceInfo: s.deviceInfo,
  ipAddress: s.ipAddress,
  userAgent: s.userAgent,
  lastActivity: s.lastActivity,
  expiresAt: s.expiresAt,
  createdAt: s.createdAt,
  current: s.sessionId === currentSessionId,
});

/** The user id in a token we just received from Cognito (already trusted: it came from Cognito). */
export function subjectOf(accessToken: string): string {
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8'));
  return String(payload.sub);
}

/** Records a signed-in device; its refresh token is kept only encrypted, to be revocable. */
export async function openSession(tokens: Tokens, device: Device): Promise<string> {
  if (!tokens.refreshToken) throw new Error('A new sign-in always carries a refresh token');
  const userId = subjectOf(tokens.accessToken);
  const now = Date.now();
  const sessionId = newId('ses', now);
  const expiresAt = new Date(now + SESSION_LIFETIME_DAYS * DAY_MS);
  const refreshTokenCipher = await encryptSecret(tokens.refreshToken, { userId, sessionId });
  const { canceled } = await transactWrite([
    put(
      db.session.create({
        userId,
        sessionId,
        ...device,
        lastActivity: new Date(now).toISOString(),
        expiresAt: expiresAt.toISOString(),
        refreshTokenHash: sha256(tokens.refreshToken!),
        refreshTokenCipher,
        ttl: Math.floor(expiresAt.getTime() / 1000) + DAY_MS / 1000,
      }),
    ),
    update(
      db.user
        .patch({ userId })
        .set({ lastLoginAt: new Date(now).toISOString(), lastLoginIp: device.ipAddress })
        .where(({ deletedAt }, { notExists }) => notExists(deletedAt)),
    ),
  ]);
  if (canceled) {
    // The user row is missing (never provisioned) or deleted (Cognito not stopped yet: `deleteAccount`): no session
    // was written, so none may be answered, and the refresh token Cognito just issued is revoked rather than left
    // without a session to end it.
    await identityProvider.revoke(tokens.refreshToken).catch(() => undefined);
    throw new ForbiddenError('This account has no profile or was deleted, so it cannot sign in');
  }
  return sessionId;
}

/**
 * Whether a session still stands: not revoked on its own, not expired, its account not deleted, and
 * opened after the last time its user was signed out everywhere (`sessionsValidAfter`, one write that
 * ends every earlier session at once, however many there are). One opened in that very millisecond
 * counts as earlier: a sign-in racing a password reset is asked again rather than kept.
 */
export function isSessionLive(s: Session, user: Pick<User, 'sessionsValidAfter' | 'deletedAt'> | null, now = new Date()) {
  if (s.revokedAt || new Date(s.expiresAt) <= now) return false;
  if (!user || isAccountDeleted(user)) return false;
  return !user.sessionsValidAfter || s.createdAt > user.sessionsValidAfter;
}

const sessionEnded = () => new UnauthenticatedError('This session has ended; sign in again');

/** Finds the live session of a refresh token; a revoked, expired or signed-out-everywhere one is refused. */
export async function sessionOfRefreshToken(refreshToken: string): Promise<Session> {
  const { data } = await db.session.query.byRefreshToken({ refreshTokenHash: sha256(refreshToken) }).go({ limit: 1 });
  const found = data[0];
  if (!found) throw sessionEnded();
  const { data: user } = await db.user.get({ userId: found.userId }).go({ consistent: true });
  if (!isSessionLive(found, user)) throw sessionEnded();
  return found;
}

export async function refreshSession(refreshToken: string): Promise<Tokens & { sessionId: string }> {
  const found = await sessionOfRefreshToken(refreshToken);
  const tokens = await identityProvider.refresh(refreshToken);
  await db.session
    .patch({ userId: found.userId, sessionId: found.sessionId })
    .set({ lastActivity: new Date().toISOString() })
    .go();
  return { ...tokens, sessionId: found.sessionId };
}

/** The user's live sessions, a page at a time; the profile is read beside the page (a deleted account is refused). */
export async function listSessions(userId: string, options: { cursor?: string; limit?: number }) {
  const [user, { data, cursor }] = await Promise.all([
    requireLiveAccount(userId),
    pageOf(db.session.query.byUser({ userId }), { cursor: options.cursor, limit: options.limit ?? 50, order: 'desc' }),
  ]);
  // Revoked, expired and signed-out-everywhere sessions are left out of the page read (the README says so): a
  // page may be short, even empty, while nextCursor is set.
  const now = new Date();
  return { items: data.filter((s) => isSessionLive(s, user, now)), nextCursor: cursor };
}

/**
 * Revokes a session's refresh token at Cognito, then marks it revoked, once: answers false when
 * another request marked it first (two sign-outs of one device at once), so that one is refused.
 */
async function revoke(s: Session): Promise<boolean> {
  if (s.refreshTokenCipher) {
    const token = await decryptSecret(s.refreshTokenCipher, { userId: s.userId, sessionId: s.sessionId });
    await identityProvider.revoke(token).catch((error: unknown) => {
      // A token Cognito no longer knows is as good as revoked.
      if ((error as { status?: number }).status !== 401) throw error;
    });
  }
  try {
    await db.session
      .patch({ userId: s.userId, sessionId: s.sessionId })
      .set({ revokedAt: new Date().toISOString() })
      .where(({ revokedAt }, { notExists }) => notExists(revokedAt))
      .go();
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
}

/** Signs one device out; the profile is read with the session, in one request (a deleted account is refused). */
export async function revokeSession(userId: string, sessionId: string) {
  const [user, session] = await transactGet<[User, Session]>([
    accountRead(userId),
    { op: db.session.get({ userId, sessionId }), entity: db.session },
  ]);
  if (!user || isAccountDeleted(user)) throw accountGone();
  if (!session || !isSessionLive(session, user) || !(await revoke(session))) throw new NotFoundError('Session not found');
}

export async function signOut(refreshToken: string) {
  if (!(await revoke(await sessionOfRefreshToken(refreshToken)))) throw sessionEnded();
}

/**
 * Ends every session of the user opened before now, in one write: the sessions themselves are
 * left as they are, and every check of a session compares its opening with this instant. The
 * refresh tokens at Cognito are the caller's to end (`identityProvider.signOutEverywhere`).
 */
export async function endSessionsOf(userId: string) {
  try {
    await db.user
      .patch({ userId })
      .set({ sessionsValidAfter: new Date().toISOString() })
      .where(({ deletedAt }, { notExists }) => notExists(deletedAt))
      .go();
  } catch (error) {
    // No profile (never provisioned), or a deleted one: it has no live session to end.
    if (!conditionFailed(error)) throw error;
  }
}

/**
 * After a password reset, every device signed in before it is signed out: a reset after a stolen
 * password locks the thief out. Cognito ends every refresh token of the user first (one call: a
 * thief holding one cannot take it to Cognito directly), then our sessions end in one write, timed
 * after it, so a device signed in with the new password since stays signed in. The account is
 * found by its memberships' address (its personal organization's at least): one query, then one
 * write per account that ever had the address (one, unless an earlier account with it was
 * deleted), however many devices.
 */
export async function signOutEverywhereAfterReset(email: string) {
  await identityProvider.signOutEverywhere(email);
  const { data } = await db.membership.query.byEmail({ email: email.toLowerCase() }).go({ pages: 'all' });
  for (const userId of new Set(data.map((m) => m.userId))) await endSessionsOf(userId);
}
