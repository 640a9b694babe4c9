import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { db } from '@platform/domain/identity/entities';
import {
  endSessionsOf,
  listSessions,
  openSession,
  revokeSession,
  sessionOfRefreshToken,
} from '@platform/domain/identity/sessions';
import { provisionUser } from '@platform/domain/identity/users';

const newUser = async () => {
  const userId = randomUUID();
  await provisionUser({ userId, email: `sessions-${userId.slice(0, 6)}@example.test`, emailVerified: true });
  return userId;
};

/** What Cognito answers a sign-in, as far as a session reads it: the access token's `sub`, and a refresh token. */
const tokensOf = (userId: string) => ({
  accessToken: `header.${Buffer.from(JSON.stringify({ sub: userId })).toString('base64url')}.signature`,
  idToken: 'id-token',
  refreshToken: `refresh-${randomUUID()}-${randomUUID()}`,
  expiresIn: 3600,
  tokenType: 'Bearer' as const,
});

async function signInOn(userId: string) {
  const tokens = tokensOf(userId);
  return { sessionId: await openSession(tokens, { deviceInfo: 'test' }), refreshToken: tokens.refreshToken! };
}

/** Waits for the clock to move on, so that what comes next is strictly later than what came before. */
async function nextMillisecond() {
  const now = Date.now();
  while (Date.now() === now) await new Promise((resolve) => setTimeout(resolve, 1));
}

describe('signing a user out everywhere (against DynamoDB Local)', () => {
  it('ends every session opened before it in one write of the profile; one opened after is live', async () => {
    const userId = await newUser();
    const before = [await signInOn(userId), await signInOn(userId), await signInOn(userId)];
    expect((await sessionOfRefreshToken(before[0]!.refreshToken)).sessionId).toBe(before[0]!.sessionId);

    await nextMillisecond();
    await endSessionsOf(userId);
    await nextMillisecond();
    const after = await signInOn(userId);

    for (const { refreshToken, sessionId } of before) {
      await expect(sessionOfRefreshToken(refreshToken)).rejects.toMatchObject({ status: 401 });
      await expect(revokeSession(userId, sessionId)).rejects.toMatchObject({ status: 404 });
    }
    expect((await sessionOfRefreshToken(after.refreshToken)).sessionId).toBe(after.sessionId);
    expect((await listSessions(userId, {})).items.map((s) => s.sessionId)).toEqual([after.sessionId]);

    // The sessions' rows were not written one by one: the profile's stamp alone ended them.
    const { data: rows } = await db.session.query.byUser({ userId }).go({ pages: 'all' });
    expect(rows.filter((s) => s.revokedAt)).toEqual([]);
    const { data: profile } = await db.user.get({ userId }).go({ consistent: true });
    expect(profile!.sessionsValidAfter! > rows.find((s) => s.sessionId === before[2]!.sessionId)!.createdAt).toBe(true);
  });

  it('leaves other users’ sessions alone', async () => {
    const [userId, otherId] = [await newUser(), await newUser()];
    const other = await signInOn(otherId);
    await nextMillisecond();
    await endSessionsOf(userId);
    expect((await sessionOfRefreshToken(other.refreshToken)).sessionId).toBe(other.sessionId);
  });

  it('refuses a deleted account’s sessions even without the stamp', async () => {
    const userId = await newUser();
    const device = await signInOn(userId);
    await db.user.patch({ userId }).set({ deletedAt: new Date().toISOString() }).go();
    await expect(sessionOfRefreshToken(device.refreshToken)).rejects.toMatchObject({ status: 401 });
    await expect(revokeSession(userId, device.sessionId)).rejects.toMatchObject({ status: 404 });
    await expect(listSessions(userId, {})).rejects.toMatchObject({ status: 404 });
  });
});
