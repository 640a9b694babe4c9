import { beforeAll, describe, expect, it } from 'vitest';
import { api, createTeam, signUpPlatformAdmin, signUpUser, type SignedInUser } from '../helpers/api.ts';

let user: SignedInUser;
let admin: SignedInUser;

beforeAll(async () => {
  [user, admin] = await Promise.all([signUpUser('plans-user'), signUpPlatformAdmin('plans-admin')]);
});

describe('plans', () => {
  it('lists the public catalogue without signing in: Free, Pro, Team (Enterprise is by contract)', async () => {
    const res = await api('GET', '/v1/plans');
    expect(res.status).toBe(200);
    expect(res.body.items.map((p: { planId: string }) => p.planId)).toEqual(expect.arrayContaining(['free', 'pro', 'team']));
    expect(res.body.items.map((p: { planId: string }) => p.planId)).not.toContain('enterprise');
    expect(res.body.items.find((p: { planId: string }) => p.planId === 'pro')).toMatchObject({
      monthlyCredits: 2000,
      priceMinor: 2000,
      currency: 'USD',
      trialDays: 14,
    });
  });

  it('are changed by platform admins only, and the change is what everyone then sees', async () => {
    const refused = await api('PUT', '/v1/admin/plans/team', { token: user.accessToken, body: { priceMinor: 1 } });
    expect(refused.status).toBe(403);
    const changed = await api('PUT', '/v1/admin/plans/team', {
      token: admin.accessToken,
      body: { priceMinor: 8900, description: 'Now cheaper' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ planId: 'team', priceMinor: 8900, monthlyCredits: 10000, description: 'Now cheaper' });
    const listed = await api('GET', '/v1/plans');
    expect(listed.body.items.find((p: { planId: string }) => p.planId === 'team')).toMatchObject({ priceMinor: 8900 });
    expect((await api('PUT', '/v1/admin/plans/team', { token: admin.accessToken, body: {} })).status).toBe(400);
  });
});

describe('subscriptions', () => {
  it('start on Free, active for a month, for a personal organization and for a new team', async () => {
    const { orgId } = await createTeam(user);
    for (const id of [user.personalOrgId, orgId]) {
      const res = await api('GET', `/v1/orgs/${id}/subscription`, { token: user.accessToken });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ orgId: id, planId: 'free', status: 'Active', cancelAtPeriodEnd: false });
      const days = (Date.parse(res.body.currentPeriodEnd) - Date.parse(res.body.currentPeriodStart)) / 86_400_000;
      expect(days).toBeGreaterThanOrEqual(28);
      expect(days).toBeLessThanOrEqual(31);
    }
  });
});
