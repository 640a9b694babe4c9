import { describe, expect, it } from 'vitest';
import type { Session } from './entities.ts';
import { isSessionLive } from './sessions.ts';

const at = (iso: string) => new Date(iso);
const session = (more: Partial<Session> = {}) =>
  ({
    userId: 'u1',
    sessionId: 's1',
    createdAt: '2030-01-10T10:00:00.000Z',
    expiresAt: '2030-02-09T10:00:00.000Z',
    ...more,
  }) as Session;
const now = at('2030-01-20T00:00:00.000Z');

describe('whether a session still stands', () => {
  it('stands until revoked or expired', () => {
    expect(isSessionLive(session(), {}, now)).toBe(true);
    expect(isSessionLive(session({ revokedAt: '2030-01-11T00:00:00.000Z' }), {}, now)).toBe(false);
    expect(isSessionLive(session(), {}, at('2030-02-09T10:00:00.000Z'))).toBe(false);
  });

  it('ends when its user is signed out everywhere after it opened, and only then', () => {
    expect(isSessionLive(session(), { sessionsValidAfter: '2030-01-15T00:00:00.000Z' }, now)).toBe(false);
    expect(isSessionLive(session(), { sessionsValidAfter: '2030-01-01T00:00:00.000Z' }, now)).toBe(true);
    // Opened in the very millisecond of the sign-out: counted as before it.
    expect(isSessionLive(session(), { sessionsValidAfter: '2030-01-10T10:00:00.000Z' }, now)).toBe(false);
  });

  it('ends with its account, and without a profile to read', () => {
    expect(isSessionLive(session(), { deletedAt: '2030-01-15T00:00:00.000Z' }, now)).toBe(false);
    expect(isSessionLive(session(), null, now)).toBe(false);
  });
});
