import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { identityProvider } from '@platform/domain/identity/cognito';
import { db } from '@platform/domain/identity/entities';
import { newId } from '@platform/domain/shared/ids';
import { hubDb } from '@platform/domain/hub/entities';
import type { RouteDefinition } from '@platform/http/route';
import { billingDb } from '@platform/domain/billing/entities';
import { userKey } from '@platform/domain/hub/owners';
import {
  PASSWORD,
  api,
  createTeam,
  errorPaths,
  eventually,
  payCheckout,
  signIn,
  signUpPlatformAdmin,
  signUpUser,
  stripeCalls,
  stripeSubscriptions,
  type SignedInUser,
} from '../helpers/api.ts';
import { expectAnsweredAsStored } from '../helpers/as-stored.ts';
import { authenticatedRoutes, inBatches, sampleFor, sendSample, worldOf } from '../helpers/route-samples.ts';

const refresh = (refreshToken: string) => api('POST', '/v1/auth/refresh', { body: { refreshToken } });

describe.concurrent('my profile', () => {
  it('shows the profile with its defaults', async () => {
    const user = await signUpUser('profile', 'Grace Hopper');
    const me = await api('GET', '/v1/me', { token: user.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      userId: user.userId,
      email: user.email,
      fullName: 'Grace Hopper',
      languagePreference: 'en-US',
      timezone: 'UTC',
      mfaEnabled: false,
      isActive: true,
      defaultOrgId: user.personalOrgId,
    });
    expect(me.body.deletedAt).toBeUndefined();
  });

  it('saves valid changes, which a later read shows', async () => {
    const user = await signUpUser('patch');
    const username = `u_${randomUUID().slice(0, 8)}`;
    const patch = {
      username,
      fullName: 'Ada King',
      firstName: 'Ada',
      lastName: 'King',
      avatarUrl: 'https://cdn.example.test/ada.png',
      languagePreference: 'fr-FR',
      timezone: 'Europe/Paris',
      settings: { theme: 'dark', notifications: { email: false } },
    };
    const res = await api('PATCH', '/v1/me', { token: user.accessToken, body: patch });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject(patch);
    const me = await api('GET', '/v1/me', { token: user.accessToken });
    expect(me.body).toMatchObject(patch);

    // Changing the username again frees the old one for someone else.
    const renamed = await api('PATCH', '/v1/me', { token: user.accessToken, body: { username: `${username}x` } });
    expect(renamed.status).toBe(200);
    const other = await signUpUser('patch2');
    expect((await api('PATCH', '/v1/me', { token: other.accessToken, body: { username } })).status).toBe(200);
  });

  it('refuses an unknown field with 400', async () => {
    const user = await signUpUser('unknown');
    const res = await api('PATCH', '/v1/me', { token: user.accessToken, body: { email: 'other@example.test' } });
    expect(res.status).toBe(400);
    const alsoRes = await api('PATCH', '/v1/me', { token: user.accessToken, body: { fullName: 'X', isAdmin: true } });
    expect(alsoRes.status).toBe(400);
    expect((await api('GET', '/v1/me', { token: user.accessToken })).body.fullName).not.toBe('X');
  });

  it('refuses an empty patch with 400', async () => {
    const user = await signUpUser('empty');
    expect((await api('PATCH', '/v1/me', { token: user.accessToken, body: {} })).status).toBe(400);
  });

  it('refuses a time zone that does not exist with a field error on body.timezone', async () => {
    const user = await signUpUser('tz');
    const res = await api('PATCH', '/v1/me', { token: user.accessToken, body: { timezone: 'Mars/Olympus_Mons' } });
    expect(res.status).toBe(400);
    expect(errorPaths(res.body)).toContain('body.timezone');
    expect((await api('GET', '/v1/me', { token: user.accessToken })).body.timezone).toBe('UTC');
  });

  it('refuses settings DynamoDB could not store with 400 naming the field, and keeps the saved ones', async () => {
    const user = await signUpUser('settings');
    expect((await api('PATCH', '/v1/me', { token: user.accessToken, body: { settings: { theme: 'dark' } } })).status).toBe(200);
    let nested: unknown = { leaf: true };
    for (let i = 0; i < 40; i++) nested = { a: nested };
    const refused = [
      [JSON.stringify({ settings: nested }), 'body.settings.a'],
      ['{"settings":{"big":12345678901234567890}}', 'body.settings.big'],
      ['{"settings":{"inf":1e400}}', 'body.settings.inf'],
      ['{"settings":{"tiny":1e-200}}', 'body.settings.tiny'],
      ['{"settings":{"huge":1.5e200}}', 'body.settings.huge'],
      ['{"settings":{"list":[1,{"":1}]}}', 'body.settings.list.1'],
      ['{"settings":{"":1}}', 'body.settings'],
    ] as const;
    for (const [rawBody, path] of refused) {
      const res = await api('PATCH', '/v1/me', {
        token: user.accessToken,
        rawBody,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status, rawBody.slice(0, 60)).toBe(400);
      expect(errorPaths(res.body)[0], rawBody.slice(0, 60)).toMatch(new RegExp(`^${path.replace(/\./g, '\\.')}`));
    }
    expect((await api('GET', '/v1/me', { token: user.accessToken })).body.settings).toEqual({ theme: 'dark' });
    const fine = { settings: { n: 9007199254740991, x: 1.5e-100, y: -2.5e15, z: 0, deep: { a: { b: [1, 'two', null] } } } };
    expect((await api('PATCH', '/v1/me', { token: user.accessToken, body: fine })).status).toBe(200);
    expect((await api('GET', '/v1/me', { token: user.accessToken })).body.settings).toEqual(fine.settings);
  });

  it('refuses a username another user holds with 409, whatever its case', async () => {
    const first = await signUpUser('uname1');
    const second = await signUpUser('uname2');
    const username = `Taken_${randomUUID().slice(0, 8)}`;
    expect((await api('PATCH', '/v1/me', { token: first.accessToken, body: { username } })).status).toBe(200);
    const clash = await api('PATCH', '/v1/me', { token: second.accessToken, body: { username } });
    expect(clash.status).toBe(409);
    expect(errorPaths(clash.body)).toContain('body.username');
    expect((await api('PATCH', '/v1/me', { token: second.accessToken, body: { username: username.toLowerCase() } })).status).toBe(
      409,
    );
    expect((await api('GET', '/v1/me', { token: second.accessToken })).body.username).toBeUndefined();
  });

  it('changes only the case of my own username (200), and no one else can take it', async () => {
    const user = await signUpUser('ucase');
    const other = await signUpUser('ucase2');
    const username = `Case_${randomUUID().slice(0, 8)}`;
    expect((await api('PATCH', '/v1/me', { token: user.accessToken, body: { username } })).status).toBe(200);
    const lower = await api('PATCH', '/v1/me', { token: user.accessToken, body: { username: username.toLowerCase() } });
    expect(lower.status, JSON.stringify(lower.body)).toBe(200);
    expect((await api('GET', '/v1/me', { token: user.accessToken })).body.username).toBe(username.toLowerCase());
    expect((await api('PATCH', '/v1/me', { token: other.accessToken, body: { username } })).status).toBe(409);
  });

  it('of two username changes at once, the loser leaves no reservation: its name stays free', async () => {
    const user = await signUpUser('urace');
    const other = await signUpUser('urace2');
    const suffix = randomUUID().slice(0, 8);
    const names = [`alpha_${suffix}`, `bravo_${suffix}`];
    const results = await Promise.all(
      names.map((username) => api('PATCH', '/v1/me', { token: user.accessToken, body: { username } })),
    );
    expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const kept = (await api('GET', '/v1/me', { token: user.accessToken })).body.username;
    expect(names).toContain(kept);
    const free = names.find((n) => n !== kept)!;
    expect((await api('PATCH', '/v1/me', { token: other.accessToken, body: { username: free } })).status).toBe(200);
  });

  it('sets the default organization to a team I belong to, and refuses one I am not in with 404', async () => {
    const owner = await signUpUser('deforg');
    const stranger = await signUpUser('deforg-x');
    const { orgId } = await createTeam(owner);
    const mine = await api('PATCH', '/v1/me', { token: owner.accessToken, body: { defaultOrgId: orgId } });
    expect(mine.status).toBe(200);
    expect(mine.body.defaultOrgId).toBe(orgId);
    const theirs = await api('PATCH', '/v1/me', { token: stranger.accessToken, body: { defaultOrgId: orgId } });
    expect(theirs.status).toBe(404);
    expect((await api('GET', '/v1/me', { token: stranger.accessToken })).body.defaultOrgId).toBe(stranger.personalOrgId);
  });

  it('shows the personal organization as default once the chosen one was left or deleted', async () => {
    const [owner, member] = await Promise.all([signUpUser('deforg-gone'), signUpUser('deforg-gone-m')]);
    const { orgId } = await createTeam(owner, [{ user: member, role: 'editor' }]);
    for (const user of [owner, member])
      expect((await api('PATCH', '/v1/me', { token: user.accessToken, body: { defaultOrgId: orgId } })).status).toBe(200);
    expect((await api('GET', '/v1/me', { token: member.accessToken })).body.defaultOrgId).toBe(orgId);
    expect((await api('DELETE', `/v1/me/orgs/${orgId}`, { token: member.accessToken })).status).toBe(204);
    expect((await api('GET', '/v1/me', { token: member.accessToken })).body.defaultOrgId).toBe(member.personalOrgId);
    expect((await api('DELETE', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(204);
    expect((await api('GET', '/v1/me', { token: owner.accessToken })).body.defaultOrgId).toBe(owner.personalOrgId);
  });

  it('answers a profile change with the personal organization as default once the chosen one was deleted, as GET does', async () => {
    const owner = await signUpUser('deforg-patch');
    const { orgId } = await createTeam(owner);
    expect((await api('PATCH', '/v1/me', { token: owner.accessToken, body: { defaultOrgId: orgId } })).status).toBe(200);
    expect((await api('DELETE', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(204);
    const patched = await api('PATCH', '/v1/me', { token: owner.accessToken, body: { fullName: 'Still here' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ fullName: 'Still here', defaultOrgId: owner.personalOrgId });
    expect((await api('GET', '/v1/me', { token: owner.accessToken })).body.defaultOrgId).toBe(owner.personalOrgId);
    // Choosing it again (the value still stored) is refused as any organization one is not in.
    expect((await api('PATCH', '/v1/me', { token: owner.accessToken, body: { defaultOrgId: orgId } })).status).toBe(404);
  });

  it('refuses as default organization a team that has been deleted (404)', async () => {
    const owner = await signUpUser('deforg-del');
    const { orgId } = await createTeam(owner);
    expect((await api('DELETE', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(204);
    expect((await api('PATCH', '/v1/me', { token: owner.accessToken, body: { defaultOrgId: orgId } })).status).toBe(404);
    expect((await api('GET', '/v1/me', { token: owner.accessToken })).body.defaultOrgId).toBe(owner.personalOrgId);
  });
});

describe('a profile change’s answer', () => {
  it('is the profile as stored: each change, of the username or not, answers what a GET right after shows', async () => {
    const user = await signUpUser('me-as-stored');
    const { orgId: team } = await createTeam(user);
    const read = () => api('GET', '/v1/me', { token: user.accessToken });
    const patch = (body: Record<string, unknown>) => () => api('PATCH', '/v1/me', { token: user.accessToken, body });
    const first = `u_${randomUUID().slice(0, 8)}`;
    await expectAnsweredAsStored([
      ['renamed', patch({ fullName: 'Ada King' }), read],
      ['a username', patch({ username: first }), read],
      ['the same username, in capitals', patch({ username: first.toUpperCase() }), read],
      [
        'another username, and a default organization',
        patch({ username: `u_${randomUUID().slice(0, 8)}`, defaultOrgId: team }),
        read,
      ],
      ['a time zone', patch({ timezone: 'Europe/Paris' }), read],
    ]);
  });
});

describe.concurrent('my signed-in devices', () => {
  it('lists each sign-in as a session, and marks the current one when told', async () => {
    const first = await signUpUser('sessions');
    const second = await signIn(first.email);
    const res = await api('GET', '/v1/me/sessions', { token: second.accessToken, headers: { 'x-session-id': second.sessionId } });
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThanOrEqual(2);
    const ids = res.body.items.map((s: { sessionId: string }) => s.sessionId);
    expect(ids).toEqual(expect.arrayContaining([first.sessionId, second.sessionId]));
    const current = res.body.items.find((s: { sessionId: string }) => s.sessionId === second.sessionId);
    expect(current).toMatchObject({ current: true, lastActivity: expect.any(String), expiresAt: expect.any(String) });
    expect(res.body.items.find((s: { sessionId: string }) => s.sessionId === first.sessionId).current).toBe(false);
    // Nothing secret about the refresh token leaves.
    for (const s of res.body.items) {
      expect(s).not.toHaveProperty('refreshTokenHash');
      expect(s).not.toHaveProperty('refreshTokenCipher');
    }
  });

  it('records the device name the client sends on sign-in', async () => {
    const user = await signUpUser('device');
    const res = await api('POST', '/v1/auth/sign-in', {
      body: { email: user.email, password: PASSWORD },
      headers: { 'x-device-name': 'Test Laptop' },
    });
    const sessions = await api('GET', '/v1/me/sessions', { token: user.accessToken });
    const session = sessions.body.items.find((s: { sessionId: string }) => s.sessionId === res.body.sessionId);
    expect(session.deviceInfo).toBe('Test Laptop');
  });

  it('signs one device out: its refresh token fails, the other device still refreshes', async () => {
    const laptop = await signUpUser('revoke');
    const phone = await signIn(laptop.email);
    const res = await api('DELETE', `/v1/me/sessions/${phone.sessionId}`, { token: laptop.accessToken });
    expect(res.status).toBe(204);
    expect((await refresh(phone.refreshToken)).status).toBe(401);
    expect((await refresh(laptop.refreshToken)).status).toBe(200);
    const sessions = await api('GET', '/v1/me/sessions', { token: laptop.accessToken });
    expect(sessions.body.items.map((s: { sessionId: string }) => s.sessionId)).not.toContain(phone.sessionId);
    // A second revoke finds nothing.
    expect((await api('DELETE', `/v1/me/sessions/${phone.sessionId}`, { token: laptop.accessToken })).status).toBe(404);
  });

  it('signs a device out once when asked twice at the same moment: one 204, the other finds nothing', async () => {
    const laptop = await signUpUser('revoke-twice');
    const phone = await signIn(laptop.email);
    const tablet = await signIn(laptop.email);
    const revokes = await Promise.all(
      [1, 2].map(() => api('DELETE', `/v1/me/sessions/${phone.sessionId}`, { token: laptop.accessToken })),
    );
    expect(revokes.map((r) => r.status).sort()).toEqual([204, 404]);
    const signOuts = await Promise.all(
      [1, 2].map(() => api('POST', '/v1/auth/sign-out', { body: { refreshToken: tablet.refreshToken } })),
    );
    expect(signOuts.map((r) => r.status).sort()).toEqual([204, 401]);
  });

  it('does not let me sign out someone else’s device (404)', async () => {
    const victim = await signUpUser('victim');
    const attacker = await signUpUser('attacker');
    expect((await api('DELETE', `/v1/me/sessions/${victim.sessionId}`, { token: attacker.accessToken })).status).toBe(404);
    expect((await refresh(victim.refreshToken)).status).toBe(200);
  });
});

/**
 * Sends `user` every route of `tried` with a valid request (test/helpers/route-samples.ts) that names `user`'s own
 * things or none (or `world`'s), so that a refusal is for the caller and never for the request, and expects
 * `status(route)` of each.
 */
async function expectAnswers(
  user: SignedInUser,
  tried: RouteDefinition[],
  status: (route: RouteDefinition) => number,
  world = worldOf(user),
) {
  const answers = await inBatches(tried, async (route) => {
    const res = await sendSample(route, sampleFor(route, world), { token: user.accessToken });
    const body = res.status === status(route) ? '' : `: ${JSON.stringify(res.body)}`;
    return `${route.method} ${route.path} answered ${res.status}${body}`;
  });
  expect(tried.length).toBeGreaterThan(0);
  expect(answers).toEqual(tried.map((route) => `${route.method} ${route.path} answered ${status(route)}`));
}

describe.concurrent('deleting my account', () => {
  it('answers 204, then sign-in is refused and old refresh tokens fail', async () => {
    const user = await signUpUser('delete');
    const other = await signIn(user.email);
    const res = await api('DELETE', '/v1/me', { token: user.accessToken });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    const signInAgain = await api('POST', '/v1/auth/sign-in', { body: { email: user.email, password: PASSWORD } });
    expect([401, 403]).toContain(signInAgain.status);
    expect((await refresh(user.refreshToken)).status).toBe(401);
    expect((await refresh(other.refreshToken)).status).toBe(401);
    // The still-unexpired access token finds no profile any more.
    expect((await api('GET', '/v1/me', { token: other.accessToken })).status).toBe(404);
  });

  it('signs every device out at once, here and at Cognito, at no DynamoDB cost per device', async () => {
    const user = await signUpUser('delete-devices');
    const devices = [user, ...(await Promise.all(Array.from({ length: 5 }, () => signIn(user.email))))];
    const res = await api('DELETE', '/v1/me', { token: user.accessToken });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    // As for a user with one device (test/helpers/budget.ts): the sessions end with the profile's write. The personal
    // organization and its subscription are read (TransactGetItems) beside the second read of the memberships; once
    // Cognito has stopped the account, the profile records it (the second UpdateItem: a retry finishes a stop that failed).
    expect([...res.dynamoRequests].sort()).toEqual([
      'Query',
      'Query',
      'TransactGetItems',
      'TransactWriteItems',
      'UpdateItem',
      'UpdateItem',
    ]);
    for (const device of devices) {
      expect((await refresh(device.refreshToken)).status).toBe(401);
      expect((await api('POST', '/v1/auth/sign-out', { body: { refreshToken: device.refreshToken } })).status).toBe(401);
      await expect(identityProvider.refresh(device.refreshToken)).rejects.toMatchObject({ status: 401 });
    }
  });

  it('refuses the access token that outlives it on every route (404; admin routes: 403), and stores nothing for it', async () => {
    const user = await signUpUser('delete-token');
    expect((await api('DELETE', '/v1/me', { token: user.accessToken })).status).toBe(204);
    // Every route it could try, with a valid request naming its own things or none. The admin-only routes refuse
    // anyone outside the platform's admin group first, this account as any (a deleted admin's: the next test).
    await expectAnswers(user, authenticatedRoutes(), (route) => (route.auth === 'admin' ? 403 : 404));
    const { data: favourites } = await hubDb.favorite.query.byOwner({ owner: userKey(user.userId) }).go();
    const { data: keys } = await hubDb.credential.query.byOwner({ owner: userKey(user.userId) }).go();
    expect({ favourites, keys }).toEqual({ favourites: [], keys: [] });
  }, 60_000);

  it('takes a platform admin’s powers with it: their token reads and grants nothing (404)', async () => {
    const admin = await signUpPlatformAdmin('delete-admin');
    const victim = await signUpUser('delete-admin-v');
    expect((await api('GET', `/v1/orgs/${victim.personalOrgId}/members`, { token: admin.accessToken })).status).toBe(200);
    expect((await api('DELETE', '/v1/me', { token: admin.accessToken })).status).toBe(204);
    expect((await api('GET', `/v1/orgs/${victim.personalOrgId}/members`, { token: admin.accessToken })).status).toBe(404);
    const grant = await api('POST', `/v1/admin/orgs/${victim.personalOrgId}/credits/adjustments`, {
      token: admin.accessToken,
      headers: { 'idempotency-key': randomUUID() },
      body: { amount: 1_000_000, reason: 'deleted admin' },
    });
    expect(grant.status).toBe(404);
    // Every admin route, those of an organization aimed at the victim's, which a live admin may act on.
    const victims = { ...worldOf(admin), orgA: victim.personalOrgId, orgB: victim.personalOrgId };
    await expectAnswers(
      admin,
      authenticatedRoutes().filter((route) => route.auth === 'admin'),
      () => 404,
      victims,
    );
    expect((await api('GET', `/v1/orgs/${victim.personalOrgId}/credits`, { token: victim.accessToken })).body.available).toBe(
      100,
    );
  }, 60_000);

  it('takes the personal organization with it and ends my team memberships', async () => {
    const user = await signUpUser('delete-org');
    const teamOwner = await signUpUser('delete-org-o');
    const { orgId } = await createTeam(teamOwner, [{ user, role: 'viewer' }]);
    const client = await api('POST', `/v1/orgs/${user.personalOrgId}/api-clients`, {
      token: user.accessToken,
      body: { name: 'personal script', scopes: ['org:read'] },
    });
    expect(client.status).toBe(201);
    expect((await api('GET', `/v1/orgs/${user.personalOrgId}`, { apiKey: client.body.key })).status).toBe(200);

    expect((await api('DELETE', '/v1/me', { token: user.accessToken })).status).toBe(204);
    // The personal organization is gone, for every credential that reached it (the key answers 401
    // once the stream has revoked it, as the keys of anyone who leaves: test/e2e/api-client-members.test.ts).
    expect([401, 404]).toContain((await api('GET', `/v1/orgs/${user.personalOrgId}`, { apiKey: client.body.key })).status);
    expect((await api('GET', `/v1/orgs/${user.personalOrgId}`, { token: user.accessToken })).status).toBe(404);
    // The team membership has ended.
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: user.accessToken })).status).toBe(404);
    const members = await api('GET', `/v1/orgs/${orgId}/members`, { token: teamOwner.accessToken });
    const row = members.body.items.find((m: { userId: string }) => m.userId === user.userId);
    expect(row === undefined || row.isActive === false).toBe(true);
  });

  it('stops the personal organization’s billing as deleting a team does: Stripe cancelled, ours ended, its slug released', async () => {
    const user = await signUpUser('delete-pro');
    const orgId = user.personalOrgId;
    const checkout = await api('POST', `/v1/orgs/${orgId}/checkout`, { token: user.accessToken, body: { planId: 'pro' } });
    expect(checkout.status, JSON.stringify(checkout.body)).toBe(201);
    await payCheckout(checkout.body.url);
    const paid = await eventually(
      () => api('GET', `/v1/orgs/${orgId}/subscription`, { token: user.accessToken }),
      (r) => r.body.planId === 'pro' && r.body.status === 'Active' && !!r.body.providerSubscriptionId,
    );
    const stripeId: string = paid.body.providerSubscriptionId;
    const { slug } = (await api('GET', `/v1/orgs/${orgId}`, { token: user.accessToken })).body;

    const res = await api('DELETE', '/v1/me', { token: user.accessToken });
    expect(res.status, JSON.stringify(res.body)).toBe(204);

    // Nobody is charged again for it: cancelled at Stripe at once, and nothing left due for our schedules.
    const cancelled = (await stripeCalls()).some((c) => c.method === 'DELETE' && c.path === `/v1/subscriptions/${stripeId}`);
    const atStripe = (await stripeSubscriptions()).find((s) => s.id === stripeId);
    const { data: ours } = await billingDb.subscription.get({ orgId }).go({ consistent: true });
    const { data: due } = await billingDb.due.query.byOrg({ orgId }).go();
    const { data: slugRow } = await db.unique.get({ kind: 'slug', value: slug }).go({ consistent: true });
    const { data: audit } = await db.auditEvent.query.byOrg({ orgId }).go({ pages: 'all' });
    expect({
      cancelled,
      atStripe: atStripe?.status,
      ours: { status: ours!.status, planId: ours!.planId, stripe: ours!.providerSubscriptionId },
      due,
      slugRow,
      deletions: audit.filter((e) => e.action === 'org.deleted').map((e) => e.actorId),
    }).toEqual({
      cancelled: true,
      atStripe: 'canceled',
      ours: { status: 'Cancelled', planId: 'free', stripe: undefined },
      due: [],
      slugRow: null,
      deletions: [user.userId],
    });
  });

  it('ends every membership, however many one transaction could hold, each with its owner count', async () => {
    const user = await signUpUser('delete-many');
    const teamOwner = await signUpUser('delete-many-o');
    const { orgId } = await createTeam(teamOwner, [{ user, role: 'owner' }]);
    // 100 more memberships, listed before the team's (older ids): past the items of one transaction.
    const assignedAt = new Date().toISOString();
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        db.membership
          .create({
            orgId: newId('org', i + 1),
            userId: user.userId,
            email: user.email,
            role: 'viewer',
            assignedBy: teamOwner.userId,
            assignedAt,
          })
          .go(),
      ),
    );
    expect((await api('DELETE', '/v1/me', { token: user.accessToken })).status).toBe(204);
    const { data: memberships } = await db.membership.query.byUser({ userId: user.userId }).go({ pages: 'all' });
    expect(memberships).toHaveLength(102);
    expect(memberships.filter((m) => m.isActive !== false).map((m) => m.orgId)).toEqual([]);
    const { data: org } = await db.organization.get({ orgId }).go({ consistent: true });
    expect(org!.ownerCount).toBe(1);
  });

  it('a co-owner who deletes their account no longer counts as an owner: the last one left cannot step down', async () => {
    const first = await signUpUser('coowner1');
    const second = await signUpUser('coowner2');
    const { orgId } = await createTeam(first, [{ user: second, role: 'owner' }]);
    expect((await api('DELETE', '/v1/me', { token: second.accessToken })).status).toBe(204);
    const stepDown = await api('PATCH', `/v1/orgs/${orgId}/members/${first.userId}`, {
      token: first.accessToken,
      body: { role: 'admin' },
    });
    expect(stepDown.status).toBe(409);
    const me = await api('GET', `/v1/orgs/${orgId}`, { token: first.accessToken });
    expect(me.body.role).toBe('owner');
  });

  it('hands the record of a team I am the recorded owner of (ownerId) to a co-owner', async () => {
    const owner = await signUpUser('delete-recorded');
    const coOwner = await signUpUser('delete-recorded-c');
    const { orgId } = await createTeam(owner, [{ user: coOwner, role: 'owner' }]);
    expect((await api('DELETE', '/v1/me', { token: owner.accessToken })).status).toBe(204);
    const org = await api('GET', `/v1/orgs/${orgId}`, { token: coOwner.accessToken });
    expect(org.body).toMatchObject({ ownerId: coOwner.userId, role: 'owner' });
    const members = await api('GET', `/v1/orgs/${orgId}/members`, { token: coOwner.accessToken });
    const owners = members.body.items.filter(
      (m: { role: string; isActive?: boolean }) => m.role === 'owner' && m.isActive !== false,
    );
    expect(owners.map((m: { userId: string }) => m.userId)).toEqual([coOwner.userId]);
  });

  it('is refused with 409 while I am the last owner of a team, and allowed after I transfer it', async () => {
    const owner = await signUpUser('lastowner');
    const heir = await signUpUser('heir');
    const { orgId } = await createTeam(owner, [{ user: heir, role: 'admin' }]);
    const refused = await api('DELETE', '/v1/me', { token: owner.accessToken });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('Transfer ownership');
    expect((await api('GET', '/v1/me', { token: owner.accessToken })).status).toBe(200);
    expect((await refresh(owner.refreshToken)).status).toBe(200);

    const transfer = await api('POST', `/v1/orgs/${orgId}/transfer-ownership`, {
      token: owner.accessToken,
      body: { userId: heir.userId },
    });
    expect(transfer.status).toBe(204);
    expect((await api('DELETE', '/v1/me', { token: owner.accessToken })).status).toBe(204);
    const org = await api('GET', `/v1/orgs/${orgId}`, { token: heir.accessToken });
    expect(org.status).toBe(200);
    expect(org.body.ownerId).toBe(heir.userId);
  });
});
