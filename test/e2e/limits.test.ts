import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { consume } from '@platform/domain/billing/limits';
import { canonicalJson } from '@platform/domain/shared/json-value';
import { claimIdempotencyKey } from '@platform/http/idempotency';
import { createRole } from '@platform/api/routes/identity/roles';
import { api, clearOfPeriodEnd, createTeam, signUpPlatformAdmin, signUpUser, type SignedInUser } from '../helpers/api.ts';
import { gateway, keyFor } from '../helpers/gateway.ts';

let owner: SignedInUser;
let admin: SignedInUser;
let orgId: string;
let key: string;
let clientId: string;

const HOUR = 3_600_000;
/**
 * A test that counts calls against an hourly window must not straddle two hours (nor days, nor
 * months): the calls after the turn would start a fresh window. Such tests start clear of it.
 */
const oneHourWindow = () => clearOfPeriodEnd(HOUR, 20_000);
const setOverride = (team: string, body: object) =>
  api('PUT', `/v1/admin/orgs/${team}/limits`, { token: admin.accessToken, body });

beforeAll(async () => {
  [owner, admin] = await Promise.all([signUpUser('limits-owner'), signUpPlatformAdmin('limits-admin')]);
  ({ orgId } = await createTeam(owner));
  const created = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
    token: owner.accessToken,
    body: { name: 'Limited', scopes: ['org:read', 'billing:read'] },
  });
  ({ key, clientId } = created.body);
});

describe('usage limits', () => {
  it('list the plan’s limits with what is used of them', async () => {
    const res = await api('GET', `/v1/orgs/${orgId}/limits`, { token: owner.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          subject: `org#${orgId}`,
          resource: 'chat',
          window: 'hourly',
          limit: 30,
          used: 0,
          source: 'plan',
        }),
        expect.objectContaining({ subject: `org#${orgId}`, resource: 'api', window: 'hourly', limit: 600, source: 'plan' }),
      ]),
    );
  });

  it('stop an API client at its limit with 429, Retry-After and X-RateLimit headers, and let it go once lifted', async () => {
    await oneHourWindow();
    const set = await api('PUT', `/v1/admin/orgs/${orgId}/limits`, {
      token: admin.accessToken,
      body: { subject: `client#${clientId}`, resource: 'api', hourly: 2 },
    });
    expect(set.status).toBe(200);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: key })).status).toBe(200);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: key })).status).toBe(200);
    const refused = await api('GET', `/v1/orgs/${orgId}`, { apiKey: key });
    expect(refused.status).toBe(429);
    expect(refused.body.type).toContain('too-many-requests');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(3600);
    expect(refused.headers.get('x-ratelimit-limit')).toBe('2');
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);

    const limits = await api('GET', `/v1/orgs/${orgId}/limits`, { token: owner.accessToken });
    expect(limits.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ subject: `client#${clientId}`, resource: 'api', limit: 2, used: 2, remaining: 0 }),
      ]),
    );
    // A user of the organization is not held back by the key's limit.
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(200);

    const lifted = await api('PUT', `/v1/admin/orgs/${orgId}/limits`, {
      token: admin.accessToken,
      body: { subject: `client#${clientId}`, resource: 'api' },
    });
    expect(lifted.status).toBe(200);
    expect((await api('GET', `/v1/orgs/${orgId}`, { apiKey: key })).status).toBe(200);
  }, 60_000);

  it('let nothing through a limit of 0: the very first call is refused, and nothing is counted', async () => {
    const created = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      token: owner.accessToken,
      body: { name: 'Closed', scopes: ['org:read', 'billing:read'] },
    });
    expect(created.status).toBe(201);
    const set = await api('PUT', `/v1/admin/orgs/${orgId}/limits`, {
      token: admin.accessToken,
      body: { subject: `client#${created.body.clientId}`, resource: 'api', hourly: 0 },
    });
    expect(set.status).toBe(200);
    for (let call = 0; call < 2; call++) {
      const refused = await api('GET', `/v1/orgs/${orgId}`, { apiKey: created.body.key });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('x-ratelimit-limit')).toBe('0');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    const limits = await api('GET', `/v1/orgs/${orgId}/limits`, { token: owner.accessToken });
    expect(limits.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ subject: `client#${created.body.clientId}`, resource: 'api', limit: 0, used: 0, remaining: 0 }),
      ]),
    );
  });

  it('hold the whole organization to an org-wide override, whoever calls', async () => {
    await oneHourWindow();
    const { orgId: team } = await createTeam(owner);
    const created = await api('POST', `/v1/orgs/${team}/api-clients`, {
      token: owner.accessToken,
      body: { name: 'Org-limited', scopes: ['org:read'] },
    });
    const set = await api('PUT', `/v1/admin/orgs/${team}/limits`, {
      token: admin.accessToken,
      body: { subject: 'org', resource: 'api', hourly: 1 },
    });
    expect(set.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ subject: `org#${team}`, resource: 'api', limit: 1, source: 'override' }),
      ]),
    );
    expect((await api('GET', `/v1/orgs/${team}`, { apiKey: created.body.key })).status).toBe(200);
    expect((await api('GET', `/v1/orgs/${team}`, { apiKey: created.body.key })).status).toBe(429);
  }, 60_000);

  it('keep the plan’s other windows when an override sets one, and show every window in force', async () => {
    const { orgId: team } = await createTeam(owner);
    const chat = async (body: object) => {
      const res = await api('PUT', `/v1/admin/orgs/${team}/limits`, {
        token: admin.accessToken,
        body: { subject: 'org', resource: 'chat', ...body },
      });
      expect(res.status).toBe(200);
      const windows = (items: Array<Record<string, unknown>>) =>
        items
          .filter((i) => i.subject === `org#${team}` && i.resource === 'chat')
          .map((i) => `${i.window}:${i.limit}:${i.source}`);
      const listed = await api('GET', `/v1/orgs/${team}/limits`, { token: owner.accessToken });
      expect(windows(listed.body.items)).toEqual(windows(res.body.items));
      return windows(res.body.items);
    };
    // The Free plan: chat 30 an hour and 300 a day.
    expect(await chat({ hourly: 1000 })).toEqual(['hourly:1000:override', 'daily:300:plan']);
    // A PUT replaces the subject’s override of the resource: the hourly window is the plan’s again.
    expect(await chat({ daily: 5, monthly: 9 })).toEqual(['hourly:30:plan', 'daily:5:override', 'monthly:9:override']);
    expect(await chat({})).toEqual(['hourly:30:plan', 'daily:300:plan']);
  });

  it('hold calls to a plan window that an override of another window left in place', async () => {
    const { orgId: team } = await createTeam(owner);
    // Raising the day above the plan leaves the plan’s hourly 30 counting.
    const org = { orgId: team, planId: 'free', limitOverrides: [{ subject: 'org', resource: 'chat', daily: 1000 }] };
    const subjects = [{ kind: 'org' as const, id: team }];
    // All 31 in one hour: the middle of the current one, whenever the loop runs.
    const now = new Date(Math.floor(Date.now() / HOUR) * HOUR + HOUR / 2);
    for (let call = 0; call < 30; call++) await consume(org, subjects, ['chat'], now);
    await expect(consume(org, subjects, ['chat'], now)).rejects.toMatchObject({ status: 429 });
  });

  it('hold a member to their own limit whether they call with their token or with a key they made', async () => {
    await oneHourWindow();
    const { orgId: team } = await createTeam(owner);
    const gatewayKey = await keyFor(owner, team, ['gateway:invoke', 'org:read']);
    const set = await api('PUT', `/v1/admin/orgs/${team}/limits`, {
      token: admin.accessToken,
      body: { subject: `user#${owner.userId}`, resource: 'chat', hourly: 0 },
    });
    expect(set.status).toBe(200);
    const body = { model: 'local-chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 };
    const byToken = await gateway('/chat/completions', { token: owner.accessToken }, body, { 'openai-organization': team });
    expect(byToken.status).toBe(429);
    const byKey = await gateway('/chat/completions', { apiKey: gatewayKey }, body);
    expect(byKey.status).toBe(429);
    expect(byKey.headers.get('x-ratelimit-limit')).toBe('0');
    // The routes count a key’s call against its member too: a member’s `api` limit holds their keys.
    await api('PUT', `/v1/admin/orgs/${team}/limits`, {
      token: admin.accessToken,
      body: { subject: `user#${owner.userId}`, resource: 'api', hourly: 1 },
    });
    expect((await api('GET', `/v1/orgs/${team}`, { apiKey: gatewayKey })).status).toBe(200);
    expect((await api('GET', `/v1/orgs/${team}`, { apiKey: gatewayKey })).status).toBe(429);
  }, 60_000);

  it('count a member’s uses per organization: calls in one neither use up nor show in another’s limit', async () => {
    await oneHourWindow();
    const [{ orgId: a }, { orgId: b }] = await Promise.all([createTeam(owner), createTeam(owner)]);
    const [keyA, keyB] = await Promise.all([keyFor(owner, a, ['org:read']), keyFor(owner, b, ['org:read'])]);
    for (const team of [a, b])
      expect((await setOverride(team, { subject: `user#${owner.userId}`, resource: 'api', hourly: 2 })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await api('GET', `/v1/orgs/${a}`, { apiKey: keyA })).status).toBe(200);
    const inB = (await api('GET', `/v1/orgs/${b}/limits`, { token: owner.accessToken })).body.items.find(
      (l: { subject: string; resource: string }) => l.subject === `user#${owner.userId}` && l.resource === 'api',
    );
    expect(inB).toMatchObject({ used: 0, remaining: 2 });
    expect((await api('GET', `/v1/orgs/${b}`, { apiKey: keyB })).status).toBe(200);
    expect((await api('GET', `/v1/orgs/${a}`, { apiKey: keyA })).status).toBe(429);
  }, 60_000);

  it('are set for the organization’s own members and API clients only (422), and removed for anyone', async () => {
    const [{ orgId: mine }, { orgId: theirs }] = await Promise.all([createTeam(owner), createTeam(admin)]);
    const created = await api('POST', `/v1/orgs/${theirs}/api-clients`, {
      token: admin.accessToken,
      body: { name: 'Their key', scopes: ['org:read'] },
    });
    expect(created.status).toBe(201);
    const stranger = `user#${randomUUID()}`;
    const theirClient = `client#${created.body.clientId}`;
    for (const subject of [stranger, theirClient]) {
      const refused = await setOverride(mine, { subject, resource: 'api', hourly: 5 });
      expect(refused.status, subject).toBe(422);
      expect(refused.body.detail).toContain(subject);
      expect((await setOverride(mine, { subject, resource: 'api' })).status).toBe(200); // nothing to remove: fine
    }
    const limits = (await api('GET', `/v1/orgs/${mine}/limits`, { token: owner.accessToken })).body.items;
    expect(limits.filter((l: { subject: string }) => l.subject === stranger || l.subject === theirClient)).toEqual([]);
    expect((await setOverride(mine, { subject: `user#${owner.userId}`, resource: 'api', hourly: 500 })).status).toBe(200);
    // Only the override set is audited: removing ones that never were changed nothing.
    const audit = await api('GET', `/v1/orgs/${mine}/audit-events?action=limits.changed`, { token: admin.accessToken });
    expect(audit.body.items.map((e: { targetId: string }) => e.targetId)).toEqual([`user#${owner.userId}/api`]);
  });

  it('are not set for an API client that no longer authenticates: a revoked key is a 422, and removing its override works', async () => {
    const { orgId: team } = await createTeam(owner);
    const created = await api('POST', `/v1/orgs/${team}/api-clients`, {
      token: owner.accessToken,
      body: { name: 'Soon revoked', scopes: ['org:read'] },
    });
    expect(created.status).toBe(201);
    const subject = `client#${created.body.clientId}`;
    expect((await setOverride(team, { subject, resource: 'api', hourly: 5 })).status).toBe(200);
    expect(
      (await api('DELETE', `/v1/orgs/${team}/api-clients/${created.body.clientId}`, { token: owner.accessToken })).status,
    ).toBe(204);
    const refused = await setOverride(team, { subject, resource: 'api', hourly: 6 });
    expect(refused.status, JSON.stringify(refused.body)).toBe(422);
    expect(refused.body.detail).toBe(`${subject} is not a live API client of this organization`);
    expect((await setOverride(team, { subject, resource: 'api' })).status).toBe(200);
  });

  it('take an expiry written at any UTC offset as the instant it is: a key or a member live for hours yet is a subject', async () => {
    const editor = await signUpUser('limits-offset');
    const { orgId: team } = await createTeam(owner, [{ user: editor, role: 'editor' }]);
    // In two hours, written as local time twelve hours behind UTC ("…-12:00"): as a string it sorts before now.
    const instant = Math.ceil((Date.now() + 2 * 3_600_000) / 1000) * 1000;
    const behind = `${new Date(instant - 12 * 3_600_000).toISOString().replace('Z', '')}-12:00`;
    const key = await api('POST', `/v1/orgs/${team}/api-clients`, {
      token: owner.accessToken,
      body: { name: 'Offset expiry', scopes: ['org:read'], expiresAt: behind },
    });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    expect(key.body.expiresAt).toBe(new Date(instant).toISOString());
    const member = await api('PATCH', `/v1/orgs/${team}/members/${editor.userId}`, {
      token: owner.accessToken,
      body: { expiresAt: behind },
    });
    expect(member.status, JSON.stringify(member.body)).toBe(200);
    expect(member.body.expiresAt).toBe(new Date(instant).toISOString());
    for (const subject of [`client#${key.body.clientId}`, `user#${editor.userId}`]) {
      const set = await setOverride(team, { subject, resource: 'api', hourly: 5 });
      expect(set.status, `${subject}: ${JSON.stringify(set.body)}`).toBe(200);
    }
  });

  it('are not set for a member who is gone: one whose account was deleted is no member any more (422)', async () => {
    const gone = await signUpUser('limits-gone');
    const { orgId: team } = await createTeam(owner, [{ user: gone, role: 'editor' }]);
    const subject = `user#${gone.userId}`;
    expect((await setOverride(team, { subject, resource: 'chat', hourly: 5 })).status).toBe(200); // a member while there
    expect((await api('DELETE', '/v1/me', { token: gone.accessToken })).status).toBe(204);
    const refused = await setOverride(team, { subject, resource: 'chat', hourly: 6 });
    expect(refused.status, JSON.stringify(refused.body)).toBe(422);
    expect(refused.body.detail).toBe(`${subject} is not a member of this organization`);
    expect((await setOverride(team, { subject, resource: 'chat' })).status).toBe(200); // removing theirs still works
  });

  it('are at most 50 per organization: one more is a 409, while replacing or removing one still works', async () => {
    const { orgId: team } = await createTeam(owner);
    const set = (resource: string, hourly?: number) =>
      api('PUT', `/v1/admin/orgs/${team}/limits`, {
        token: admin.accessToken,
        body: { subject: 'org', resource, ...(hourly === undefined ? {} : { hourly }) },
      });
    for (let i = 0; i < 50; i++) expect((await set(`resource-${i}`, 1_000 + i)).status).toBe(200);
    const more = await set('resource-50', 1);
    expect(more.status).toBe(409);
    expect(more.body.detail).toContain('at most 50');
    expect((await set('resource-0', 7)).status).toBe(200);
    expect((await set('resource-1')).status).toBe(200);
    expect((await set('resource-50', 1)).status).toBe(200);
    // Shown whole, within the request budget (the helper counts).
    const limits = await api('GET', `/v1/orgs/${team}/limits`, { token: owner.accessToken });
    const ours = limits.body.items.filter((l: { resource: string }) => l.resource.startsWith('resource-'));
    expect(ours).toHaveLength(50);
    expect(ours.find((l: { resource: string }) => l.resource === 'resource-0')).toMatchObject({ limit: 7 });
  }, 60_000);

  it('are set by platform admins only, for a well-formed subject', async () => {
    const body = { subject: 'org', resource: 'api', hourly: 1 };
    expect((await api('PUT', `/v1/admin/orgs/${orgId}/limits`, { token: owner.accessToken, body })).status).toBe(403);
    const bad = await api('PUT', `/v1/admin/orgs/${orgId}/limits`, {
      token: admin.accessToken,
      body: { ...body, subject: 'everyone' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('body.subject');
  });
});

describe('usage limits and Idempotency-Key retries', () => {
  /** A team and an API client of it that makes roles, held to `hourly` calls of `api`. */
  async function roleMaker(hourly: number) {
    const { orgId: team } = await createTeam(owner);
    const created = await api('POST', `/v1/orgs/${team}/api-clients`, {
      token: owner.accessToken,
      body: { name: 'Role maker', scopes: ['roles:manage', 'org:read'] },
    });
    expect(created.status).toBe(201);
    const limit = (hours: number) =>
      setOverride(team, { subject: `client#${created.body.clientId}`, resource: 'api', hourly: hours }).then((res) =>
        expect(res.status).toBe(200),
      );
    await limit(hourly);
    const body = (name: string) => ({ name, permissions: ['org:read'] });
    return {
      team,
      clientId: created.body.clientId as string,
      limit,
      body,
      createRole: (key: string, name: string) =>
        api('POST', `/v1/orgs/${team}/roles`, {
          apiKey: created.body.key,
          headers: { 'idempotency-key': key },
          body: body(name),
        }),
      read: () => api('GET', `/v1/orgs/${team}`, { apiKey: created.body.key }),
      used: async () => {
        const limits = await api('GET', `/v1/orgs/${team}/limits`, { token: owner.accessToken });
        const mine = limits.body.items.find(
          (l: { subject: string; resource: string }) => l.subject === `client#${created.body.clientId}` && l.resource === 'api',
        );
        return { used: mine.used, remaining: mine.remaining };
      },
    };
  }
  const outcome = (res: Awaited<ReturnType<typeof api>>) => ({
    status: res.status,
    replayed: res.headers.get('idempotent-replayed'),
  });

  it('answer a retry with the same key at the `api` limit with the first answer again, and count none of the replays', async () => {
    await oneHourWindow();
    const maker = await roleMaker(1);
    const first = await maker.createRole('limits-replay-1', 'Replayed');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    for (let retry = 0; retry < 2; retry++) {
      const again = await maker.createRole('limits-replay-1', 'Replayed');
      expect(outcome(again), JSON.stringify(again.body)).toEqual({ status: 201, replayed: 'true' });
      expect(again.body).toEqual(first.body);
    }
    expect(await maker.used()).toEqual({ used: 1, remaining: 0 });
    // The limit holds all the same for a call that does work.
    expect((await maker.read()).status).toBe(429);
  }, 60_000);

  it('keep no answer for a first run the limit refused: the same key runs once the limit allows it, and only once', async () => {
    await oneHourWindow();
    const maker = await roleMaker(1);
    expect((await maker.read()).status).toBe(200);
    const refused = await maker.createRole('limits-refused-1', 'Refused first');
    expect(outcome(refused)).toEqual({ status: 429, replayed: null });
    // As when the window turns: the limit allows the call again, and the retry is not blocked by the refused one.
    await maker.limit(3);
    const ran = await maker.createRole('limits-refused-1', 'Refused first');
    expect(outcome(ran), JSON.stringify(ran.body)).toEqual({ status: 201, replayed: null });
    const replayed = await maker.createRole('limits-refused-1', 'Refused first');
    expect(outcome(replayed)).toEqual({ status: 201, replayed: 'true' });
    expect(await maker.used()).toEqual({ used: 2, remaining: 1 });
    const roles = await api('GET', `/v1/orgs/${maker.team}/roles`, { token: owner.accessToken });
    expect(roles.body.items.filter((r: { name: string }) => r.name === 'Refused first')).toHaveLength(1);
  }, 60_000);

  it('answer a retry while the first request with the key runs with a 409, at the limit or not, counting nothing', async () => {
    await oneHourWindow();
    const maker = await roleMaker(2);
    expect((await maker.read()).status).toBe(200);
    // The first request is running: it holds the key's claim, taken as the idempotency middleware takes it
    // (scope: the route, the caller, the organization; the body as validated).
    const key = 'limits-inflight-1';
    const claim = await claimIdempotencyKey(
      `${createRole.id}#client:${maker.clientId}#${maker.team}`,
      key,
      canonicalJson(createRole.schemas.body.parse(maker.body('In flight'))),
    );
    expect(claim.kind).toBe('run');
    for (let retry = 0; retry < 2; retry++) {
      const busy = await maker.createRole(key, 'In flight');
      expect(busy.status, JSON.stringify(busy.body)).toBe(409);
      expect(busy.body.detail).toContain('still being processed');
    }
    expect(await maker.used()).toEqual({ used: 1, remaining: 1 });
    // The first request gives the key up (refused, say): the retry runs, and counts.
    if (claim.kind === 'run') await claim.abandon();
    expect((await maker.createRole(key, 'In flight')).status).toBe(201);
    expect(await maker.used()).toEqual({ used: 2, remaining: 0 });
  }, 60_000);
});
