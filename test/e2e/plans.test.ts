import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '@platform/domain/identity/entities';
import {
  api,
  createTeam,
  platformAuditEvents,
  signUpPlatformAdmin,
  signUpUser,
  type ApiResponse,
  type SignedInUser,
} from '../helpers/api.ts';
import { expectAnsweredAsStored } from '../helpers/as-stored.ts';

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

  it('come whole, as do the credit packs: their lists refuse a limit or cursor rather than ignore it', async () => {
    for (const path of ['/v1/plans?limit=1', '/v1/credit-packs?cursor=x']) {
      const res = await api('GET', path, { token: user.accessToken });
      expect([res.status, res.body.errors?.[0]?.path], path).toEqual([
        400,
        path.includes('limit') ? 'query.limit' : 'query.cursor',
      ]);
    }
  });

  it('are changed by platform admins only, and the change is what everyone then sees', async () => {
    const refused = await api('PUT', '/v1/admin/plans/team', { token: user.accessToken, body: { priceMinor: 1 } });
    expect(refused.status).toBe(403);
    // The description only: the suites share one local cloud, and others subscribe to Team at its price.
    const changed = await api('PUT', '/v1/admin/plans/team', {
      token: admin.accessToken,
      body: { description: 'For teams, now with more' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      planId: 'team',
      priceMinor: 9900,
      monthlyCredits: 10000,
      description: 'For teams, now with more',
    });
    const listed = await api('GET', '/v1/plans');
    expect(listed.body.items.find((p: { planId: string }) => p.planId === 'team')).toMatchObject({
      description: 'For teams, now with more',
    });
    expect((await api('PUT', '/v1/admin/plans/team', { token: admin.accessToken, body: {} })).status).toBe(400);
  });

  it('concurrent partial edits of one plan: each change answered 200 is kept, the others are 409 and change nothing', async () => {
    const planId = `race-${Date.now().toString(36)}`;
    const created = await api('PUT', `/v1/admin/plans/${planId}`, {
      token: admin.accessToken,
      body: { name: 'Race', monthlyCredits: 10, priceMinor: 100, isPublic: false },
    });
    expect(created.status).toBe(200);
    expect(created.body.version).toBe(1);
    const edits = [
      { name: 'Renamed' },
      { description: 'Described' },
      { monthlyCredits: 999 },
      { priceMinor: 4200 },
      { sortOrder: 500 },
      { trialDays: 3 },
    ];
    const answers = await Promise.all(
      edits.map((body) => api('PUT', `/v1/admin/plans/${planId}`, { token: admin.accessToken, body })),
    );
    for (const res of answers) expect([200, 409]).toContain(res.status);
    const won = edits.filter((_, i) => answers[i]!.status === 200);
    expect(won.length).toBeGreaterThan(0);
    expect(new Set(answers.filter((r) => r.status === 200).map((r) => r.body.version)).size).toBe(won.length);
    const after = await api('PUT', `/v1/admin/plans/${planId}`, { token: admin.accessToken, body: { isPublic: false } });
    expect(after.body.version).toBe(2 + won.length);
    const lost = edits.filter((_, i) => answers[i]!.status === 409);
    expect(after.body).toMatchObject(Object.assign({}, ...won));
    for (const edit of lost) expect(after.body).not.toMatchObject(edit);
  });

  it('answer a new plan as stored: public and first in order unless the PUT says otherwise, as GET /v1/plans shows it', async () => {
    const planId = `stored-${Date.now().toString(36)}`;
    const since = Date.now();
    const listed = async () => {
      const item = (await api('GET', '/v1/plans')).body.items.find((p: { planId: string }) => p.planId === planId);
      return { status: item ? 200 : 404, body: item } as ApiResponse;
    };
    await expectAnsweredAsStored([
      ['created', () => api('PUT', `/v1/admin/plans/${planId}`, { token: admin.accessToken, body: { name: 'Stored' } }), listed],
      ['edited', () => api('PUT', `/v1/admin/plans/${planId}`, { token: admin.accessToken, body: { sortOrder: 9 } }), listed],
    ]);
    expect((await listed()).body).toMatchObject({ isPublic: true, sortOrder: 9 });
    // Audited as new: nothing before it, not the placeholders it started from.
    const [edited, created] = await platformAuditEvents(admin, planId, since, 'plan.updated');
    expect(created).toMatchObject({ details: { changes: { name: 'Stored' }, before: null } });
    expect(edited).toMatchObject({ details: { changes: { sortOrder: 9 }, before: { sortOrder: 0 } } });
    expect((await api('PUT', `/v1/admin/plans/${planId}`, { token: admin.accessToken, body: { isPublic: false } })).status).toBe(
      200,
    );
  });

  it('apply their limits at once: a new plan’s, then an edit of them (the limits kept a minute are read again)', async () => {
    const owner = await signUpUser('plans-limits');
    const { orgId } = await createTeam(owner);
    const chatHourly = async () =>
      (await api('GET', `/v1/orgs/${orgId}/limits`, { token: owner.accessToken })).body.items.find(
        (l: { subject: string; resource: string; window: string }) =>
          l.subject === `org#${orgId}` && l.resource === 'chat' && l.window === 'hourly',
      )?.limit;
    expect(await chatHourly()).toBe(30); // Free's; the server has its catalogue now
    const planId = `limits-${Date.now().toString(36)}`;
    const put = (body: object) => api('PUT', `/v1/admin/plans/${planId}`, { token: admin.accessToken, body });
    expect((await put({ name: 'Limited', isPublic: false, limits: { chat: { hourly: 5 } } })).status).toBe(200);
    // The organization on it, as a contract a platform admin records puts it (org.planId is what limits read).
    await db.organization.patch({ orgId }).set({ planId }).go();
    expect(await chatHourly()).toBe(5);
    expect((await put({ limits: { chat: { hourly: 7 } } })).status).toBe(200);
    expect(await chatHourly()).toBe(7);
  });

  it('refuse a limit named as no resource is (empty, capitals, too long) with a 400 on the field, never a 500', async () => {
    const planId = `names-${Date.now().toString(36)}`;
    const put = (limits: object) =>
      api('PUT', `/v1/admin/plans/${planId}`, { token: admin.accessToken, body: { limits, isPublic: false } });
    for (const name of ['', 'Chat', 'x'.repeat(41)]) {
      const res = await put({ [name]: { hourly: 5 } });
      expect(res.status, `${JSON.stringify(name)}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.errors).toEqual([
        { path: `body.limits.${name}`, message: 'A resource or agent type like `chat` or `api`' },
      ]);
    }
    // The names a limit override takes.
    const named = await put({ chat: { hourly: 5 }, git_mcp: { daily: 50 }, 'image-edit': { monthly: 9 } });
    expect(named.status, JSON.stringify(named.body)).toBe(200);
    expect(Object.keys(named.body.limits).sort()).toEqual(['chat', 'git_mcp', 'image-edit']);
  });

  it('refuses a trial, a price or privacy on the Free plan: every new organization starts on it Active and unpaid', async () => {
    const res = await api('PUT', '/v1/admin/plans/free', {
      token: admin.accessToken,
      body: { trialDays: 7, priceMinor: 5000, isPublic: false },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'body.isPublic',
      'body.priceMinor',
      'body.trialDays',
    ]);
    const free = (await api('GET', '/v1/plans')).body.items.find((p: { planId: string }) => p.planId === 'free');
    expect(free).toMatchObject({ trialDays: 0, priceMinor: 0, isPublic: true });
    expect((await api('PUT', '/v1/admin/plans/free', { token: admin.accessToken, body: { monthlyCredits: 100 } })).status).toBe(
      200,
    );
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
