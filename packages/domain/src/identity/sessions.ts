import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { decryptSecret, encryptSecret, sha256 } from '../shared/secrets.ts';
import { identityProvider, type Tokens } from './cognito.ts';
import { db, type Session } from './entities.ts';
import { transactWrite, put, update } from '../shared/transactions.ts';
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
    update(db.user.patch({ userId }).set({ lastLoginAt: new Date(now).toISOString(), lastLoginIp: device.ipAddress })),
  ]);
  if (canceled) {
    // The user row is missing (never provisioned): no session was written, so none may be answered, and the
    // refresh token Cognito just issued is revoked rather than left without a session to end it.
    await identityProvider.revoke(tokens.refreshToken).catch(() => undefined);
    throw new ForbiddenError('This account has no profile, so it cannot sign in');
  }
  return sessionId;
}

/** Finds the live session of a refresh token; a revoked or unknown one is refused. */
export async function sessionOfRefreshToken(refreshToken: string): Promise<Session> {
  const { data } = await db.session.query.byRefreshToken({ refreshTokenHash: sha256(refreshToken) }).go({ limit: 1 });
  const found = data[0];
  if (!found || found.revokedAt || new Date(found.expiresAt) <= new Date())
    throw new UnauthenticatedError('This session has ended; sign in again');
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

export async function listSessions(userId: string, options: { cursor?: string; limit?: number }) {
  const { data, cursor } = await pageOf(db.session.query.byUser({ userId }), {
    cursor: options.cursor,
    limit: options.limit ?? 50,
    order: 'desc',
  });
  // Revoked and expired sessions are left out of the page read (the README says so): a page may be short, even
  // empty, while nextCursor is set.
  const now = new Date();
  return { items: data.filter((s) => !s.revokedAt && new Date(s.expiresAt) > now), nextCursor: cursor };
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

export async function revokeSession(userId: string, sessionId: string) {
  const { data } = await db.session.get({ userId, sessionId }).go({ consistent: true });
  if (!data || data.revokedAt || !(await revoke(data))) throw new NotFoundError('Session not found');
}

export async function signOut(refreshToken: string) {
  if (!(await revoke(await sessionOfRefreshToken(refreshToken))))
    throw new UnauthenticatedError('This session has ended; sign in again');
}

/**
 * After a password reset, every device signed in before it is signed out (its refresh token
 * stops working): a reset after a stolen password locks the thief out. The account is found by
 * its memberships' address (its personal organization's at least); none, nothing to sign out.
 */
export async function revokeSessionsOfEmail(email: string) {
  const { data } = await db.membership.query.byEmail({ email: email.toLowerCase() }).go({ pages: 'all' });
  for (const userId of new Set(data.map((m) => m.userId))) await revokeAllSessions(userId);
}

/** Every live session of the user, ten at a time: each costs a KMS decrypt and a Cognito call, which both throttle bursts. */
export async function revokeAllSessions(userId: string) {
  const { data } = await db.session.query.byUser({ userId }).go({ pages: 'all' });
  const live = data.filter((s) => !s.revokedAt);
  for (let i = 0; i < live.length; i += 10) await Promise.all(live.slice(i, i + 10).map(revoke));
}
