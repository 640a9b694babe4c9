import { beforeAll, describe, expect, it } from 'vitest';
import { api, createTeam, signUpPlatformAdmin, signUpUser, type SignedInUser } from '../helpers/api.ts';

/** A sub-millisecond ISO instant just after `iso` (which has exactly milliseconds): `…00.123Z` → `…00.1235Z`. */
const justAfter = (iso: string) => iso.replace(/Z$/, '5Z');

let admin: SignedInUser;
let owner: SignedInUser;
let orgId: string;

beforeAll(async () => {
  admin = await signUpPlatformAdmin('submilli-admin');
  owner = await signUpUser('submilli-owner');
  ({ orgId } = await createTeam(owner));
  const adjusted = await api('POST', `/v1/admin/orgs/${orgId}/credits/adjustments`, {
    token: admin.accessToken,
    body: { amount: 7, reason: 'sub-millisecond ranges' },
  });
  expect(adjusted.status, JSON.stringify(adjusted.body)).toBe(201);
}, 60_000);

/**
 * Times a client sends finer than a millisecond, against rows and hours kept to the millisecond:
 * a bound is rounded the way that keeps what the client asked (a start up, an inclusive end
 * down, an exclusive end up), and ranges are ordered as sent.
 */
describe('client times finer than a millisecond', () => {
  it('ledger: `from` just after a row’s instant leaves that row out (as the usage list does)', async () => {
    const whole = await api('GET', `/v1/orgs/${orgId}/credits/transactions?limit=100`, { token: owner.accessToken });
    expect(whole.status).toBe(200);
    const newest = whole.body.items[0] as { transactionId: string; createdAt: string };
    expect(newest.createdAt).toMatch(/\.\d{3}Z$/);
    const from = justAfter(newest.createdAt); // strictly after the row's instant
    expect(Date.parse(from)).toBe(Date.parse(newest.createdAt)); // (JS sees the same ms; the instant is later)
    const res = await api('GET', `/v1/orgs/${orgId}/credits/transactions?from=${encodeURIComponent(from)}`, {
      token: owner.accessToken,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const ids = res.body.items.map((t: { transactionId: string }) => t.transactionId);
    expect(ids, `row at ${newest.createdAt} is before from=${from}`).not.toContain(newest.transactionId);
  });

  it('ledger: `from` after `to` by less than a millisecond is refused (400), as any from after to', async () => {
    const res = await api(
      'GET',
      `/v1/orgs/${orgId}/credits/transactions?from=${encodeURIComponent('2030-01-01T00:00:00.0009Z')}&to=${encodeURIComponent('2030-01-01T00:00:00.0001Z')}`,
      { token: owner.accessToken },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    const same = encodeURIComponent('2030-01-01T00:00:00.0005Z');
    const one = await api('GET', `/v1/orgs/${orgId}/credits/transactions?from=${same}&to=${same}`, { token: owner.accessToken });
    expect(one.status, JSON.stringify(one.body)).toBe(200);
  });

  it('metrics: `to` less than a millisecond after `from` is a valid range (200), counted up to the end of its hour', async () => {
    const from = '2026-01-01T10:00:00.000Z';
    const to = '2026-01-01T10:00:00.0005Z';
    const res = await api('GET', `/v1/models/local-chat/metrics?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, {
      token: admin.accessToken,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.to).toBe('2026-01-01T11:00:00.000Z');
  });

  it('metrics: `to` past an hour’s start by a fraction of a millisecond takes that hour in', async () => {
    const res = await api(
      'GET',
      `/v1/models/local-chat/metrics?from=${encodeURIComponent('2026-01-01T08:00:00Z')}&to=${encodeURIComponent('2026-01-01T10:00:00.0001Z')}`,
      { token: admin.accessToken },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // "to: Exclusive, rounded up to the end of its hour": 10:00:00.0001 is in the 10 o'clock hour.
    expect(res.body.to).toBe('2026-01-01T11:00:00.000Z');
  });
});
