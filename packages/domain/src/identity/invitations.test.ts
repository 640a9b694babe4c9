import { describe, expect, it } from 'vitest';
import type { Invitation } from './entities.ts';
import { invitationStatus, invitationView } from './invitations.ts';

const HOUR_MS = 3_600_000;
const invitation = (status: Invitation['status'], expiresInMs: number) =>
  ({
    invitationId: 'inv_1',
    orgId: 'org_1',
    email: 'someone@example.test',
    role: 'viewer',
    status,
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    ttl: 1,
  }) as Invitation;

describe('an invitation’s status', () => {
  it('is pending until it expires, then expired, whatever is stored', () => {
    expect(invitationStatus(invitation('pending', HOUR_MS))).toBe('pending');
    expect(invitationStatus(invitation('pending', -HOUR_MS))).toBe('expired');
  });

  it('keeps an answer given before the expiry: accepted, declined or revoked stay so once it has passed', () => {
    for (const status of ['accepted', 'declined', 'revoked'] as const) {
      expect(invitationStatus(invitation(status, -HOUR_MS))).toBe(status);
      expect(invitationStatus(invitation(status, HOUR_MS))).toBe(status);
    }
  });

  it('is shown as computed, without its TTL', () => {
    const view = invitationView(invitation('pending', -HOUR_MS));
    expect(view.status).toBe('expired');
    expect(view.ttl).toBeUndefined();
  });
});
