import { beforeAll, describe, expect, it } from 'vitest';
import { api, createTeam, signUpPlatformAdmin, signUpUser, type SignedInUser } from '../helpers/api.ts';

let owner: SignedInUser;
let viewer: SignedInUser;
let admin: SignedInUser;
let orgId: string;

beforeAll(async () => {
  [owner, viewer, admin] = await Promise.all([
    signUpUser('credits-owner'),
    signUpUser('credits-viewer'),
    signUpPlatformAdmin('credits-admin'),
  ]);
  ({ orgId } = await createTeam(owner, [{ user: viewer, role: 'viewer' }]));
});

describe('credits', () => {
  it('start with the Free plan’s monthly credits, granted once, in the ledger', async () => {
    const res = await api('GET', `/v1/orgs/${orgId}/credits`, { token: owner.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ orgId, available: 100, reserved: 0, balance: 100 });
    const ledger = await api('GET', `/v1/orgs/${orgId}/credits/transactions`, { token: owner.accessToken });
    expect(ledger.body.items).toMatchObject([{ type: 'grant', amount: 100, description: 'Free plan: monthly credits' }]);
  });

  it('are adjusted by a platform admin, once per Idempotency-Key, and the change is in the ledger and the audit log', async () => {
    const body = { amount: 500, reason: 'Launch bonus' };
    const headers = { 'idempotency-key': `bonus-${orgId}` };
    const first = await api('POST', `/v1/admin/orgs/${orgId}/credits/adjustments`, { token: admin.accessToken, body, headers });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ type: 'adjustment', amount: 500, description: 'Launch bonus', actorId: admin.userId });
    const again = await api('POST', `/v1/admin/orgs/${orgId}/credits/adjustments`, { token: admin.accessToken, body, headers });
    expect(again.body.transactionId).toBe(first.body.transactionId);

    const taken = await api('POST', `/v1/admin/orgs/${orgId}/credits/adjustments`, {
      token: admin.accessToken,
      body: { amount: -120, reason: 'Refunded purchase reversed' },
    });
    expect(taken.status).toBe(201);
    expect((await api('GET', `/v1/orgs/${orgId}/credits`, { token: owner.accessToken })).body).toMatchObject({
      available: 480,
      balance: 480,
    });

    const ledger = await api('GET', `/v1/orgs/${orgId}/credits/transactions`, { token: owner.accessToken });
    expect(ledger.body.items.map((t: { amount: number }) => t.amount)).toEqual([-120, 500, 100]);
    const audit = await api('GET', `/v1/orgs/${orgId}/audit-events?action=credits.adjusted`, { token: owner.accessToken });
    expect(audit.body.items).toHaveLength(2);
  });

  it('never go below zero: taking more than is available is a 402', async () => {
    const res = await api('POST', `/v1/admin/orgs/${orgId}/credits/adjustments`, {
      token: admin.accessToken,
      body: { amount: -1_000_000, reason: 'Too much' },
    });
    expect(res.status).toBe(402);
    expect(res.body.type).toContain('insufficient-credits');
  });

  it('read a date range given with a time-zone offset as the instant it names', async () => {
    // One hour ago, written in UTC+05:00: as a string it sorts after the stored UTC times.
    const hourAgo = new Date(Date.now() - 3_600_000);
    const local = new Date(hourAgo.getTime() + 5 * 3_600_000).toISOString().slice(0, 19) + '+05:00';
    const res = await api('GET', `/v1/orgs/${orgId}/credits/transactions?from=${encodeURIComponent(local)}`, {
      token: owner.accessToken,
    });
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
  });

  it('filter the ledger by type and date', async () => {
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const byType = await api('GET', `/v1/orgs/${orgId}/credits/transactions?type=grant`, { token: owner.accessToken });
    expect(byType.body.items.map((t: { type: string }) => t.type)).toEqual(['grant']);
    const later = await api('GET', `/v1/orgs/${orgId}/credits/transactions?from=${encodeURIComponent(future)}`, {
      token: owner.accessToken,
    });
    expect(later.body.items).toEqual([]);
    const bad = await api(
      'GET',
      `/v1/orgs/${orgId}/credits/transactions?from=${encodeURIComponent(future)}&to=2020-01-01T00:00:00Z`,
      {
        token: owner.accessToken,
      },
    );
    expect(bad.status).toBe(400);
  });

  it('include a transaction at exactly `to`: both bounds are inclusive, so from == to names one instant', async () => {
    const { items } = (await api('GET', `/v1/orgs/${orgId}/credits/transactions?type=grant`, { token: owner.accessToken })).body;
    const at = encodeURIComponent(items[0].createdAt);
    const exact = await api('GET', `/v1/orgs/${orgId}/credits/transactions?from=${at}&to=${at}`, { token: owner.accessToken });
    expect(exact.status).toBe(200);
    expect(exact.body.items.map((t: { transactionId: string }) => t.transactionId)).toEqual([items[0].transactionId]);
    const upTo = await api('GET', `/v1/orgs/${orgId}/credits/transactions?type=grant&to=${at}`, { token: owner.accessToken });
    expect(upTo.body.items.map((t: { transactionId: string }) => t.transactionId)).toContain(items[0].transactionId);
  });

  it('list everything up to the last instant of year 9999, and refuse (400) a bound outside years 0001–9999', async () => {
    const all = await api('GET', `/v1/orgs/${orgId}/credits/transactions`, { token: owner.accessToken });
    const last = encodeURIComponent('9999-12-31T23:59:59.999Z');
    const upTo = await api('GET', `/v1/orgs/${orgId}/credits/transactions?to=${last}`, { token: owner.accessToken });
    expect(upTo.status).toBe(200);
    expect(upTo.body.items).toEqual(all.body.items);
    // 9999-12-31T23:00 at UTC-05:00 is in year 10000 in UTC; 0001-01-01T00:00 at UTC+01:00 is in year 0.
    for (const query of [
      `to=${encodeURIComponent('9999-12-31T23:00:00-05:00')}`,
      `from=${encodeURIComponent('0001-01-01T00:00:00+01:00')}`,
    ]) {
      const res = await api('GET', `/v1/orgs/${orgId}/credits/transactions?${query}`, { token: owner.accessToken });
      expect(res.status, query).toBe(400);
    }
  });

  it('are hidden from viewers (403) and cannot be adjusted by anyone but a platform admin (403)', async () => {
    expect((await api('GET', `/v1/orgs/${orgId}/credits`, { token: viewer.accessToken })).status).toBe(403);
    const res = await api('POST', `/v1/admin/orgs/${orgId}/credits/adjustments`, {
      token: owner.accessToken,
      body: { amount: 10, reason: 'Self service' },
    });
    expect(res.status).toBe(403);
  });
});
