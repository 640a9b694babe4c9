import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '@platform/api/manifest';
import { PERMISSIONS } from '@platform/domain/identity/permissions';
import { addMember, api, signUpPlatformAdmin, signUpUser, type SignedInUser } from '../helpers/api.ts';
import {
  authenticatedRoutes,
  buildWorld,
  fill,
  inBatches,
  sampleFor,
  samples,
  sendSample,
  type World,
} from '../helpers/route-samples.ts';

/**
 * Tenant isolation, route by route from the manifest: a member of organization A (its owner,
 * holding every permission there) and A's API key reach for organization B's resources and
 * get 403 or 404 (not 401: both are let into A), and nothing of B changes. Then the callers B
 * itself refuses: a suspended member, a deleted account, a key without the route's scope, a
 * member who is no platform admin, a key where only a user may call, and no credentials at all,
 * each with the one status README promises. The requests come from test/helpers/route-samples.ts,
 * and each is answered 2xx to B's own (or a platform admin), so no refusal is the sample's fault.
 */

/** Routes that name no tenant resource: they act on the caller alone, or on nobody. */
const notTenantScoped: Record<string, string> = {
  health: 'public, no data',
  openApi: 'public, no data',
  docs: 'public, no data',
  localOutbox: 'local cloud only',
  signUp: 'public: creates the caller',
  confirmSignUp: 'public: acts on the caller’s own pending account',
  resendCode: 'public: acts on the caller’s own pending account',
  signIn: 'public: the caller’s own credentials',
  answerMfaChallenge: 'public: the caller’s own credentials',
  refresh: 'public: the caller’s own refresh token',
  signOut: 'public: the caller’s own refresh token',
  forgotPassword: 'public: mail goes to the account owner only',
  confirmForgotPassword: 'public: needs the code mailed to the owner',
  mfaSetup: 'acts on the caller only',
  mfaVerify: 'acts on the caller only',
  mfaDisable: 'acts on the caller only',
  getMe: 'the caller’s own profile',
  updateMe: 'the caller’s own profile',
  deleteMe: 'the caller’s own profile',
  listMyOrgs: 'the caller’s own memberships',
  listOrgs: 'the caller’s own memberships',
  listMySessions: 'the caller’s own sessions',
  listMyInvitations: 'invitations to the caller’s own email',
  createOrg: 'creates a new organization owned by the caller',
  listMyNotifications: 'the caller’s own notifications (keyed by the caller’s user id)',
  markAllNotificationsRead: 'the caller’s own notifications (keyed by the caller’s user id)',
  listPlans: 'public catalogue',
  savePlan: 'platform catalogue, platform admins only',
  listProviders: 'platform catalogue, read-only',
  saveProvider: 'platform catalogue, platform admins only',
  patchProvider: 'platform catalogue, platform admins only',
  retireProvider: 'platform catalogue, platform admins only',
  saveModel: 'platform catalogue, platform admins only',
  patchModel: 'platform catalogue, platform admins only',
  retireModel: 'platform catalogue, platform admins only',
  listFavoriteModels: 'the caller’s own favourites (keyed by the caller’s user id)',
  createMyProviderCredential: 'creates a key of the caller’s own (keyed by the caller’s user id)',
  listMyProviderCredentials: 'the caller’s own keys (keyed by the caller’s user id)',
  createPlatformProviderCredential: 'the platform’s keys, platform admins only',
  listPlatformProviderCredentials: 'the platform’s keys, platform admins only',
  getPlatformProviderCredential: 'the platform’s keys, platform admins only',
  updatePlatformProviderCredential: 'the platform’s keys, platform admins only',
  deletePlatformProviderCredential: 'the platform’s keys, platform admins only',
  testPlatformProviderCredential: 'the platform’s keys, platform admins only',
  createGlobalRoutingRule: 'global rules, platform admins only',
  listGlobalRoutingRules: 'global rules, platform admins only',
  getGlobalRoutingRule: 'global rules, platform admins only',
  updateGlobalRoutingRule: 'global rules, platform admins only',
  deleteGlobalRoutingRule: 'global rules, platform admins only',
  listAdminConfigs: 'platform configuration, platform admins only',
  getAdminConfig: 'platform configuration, platform admins only',
  saveAdminConfig: 'platform configuration, platform admins only',
  listCreditPacks: 'public catalogue',
  listPlatformAuditEvents: 'the platform’s own audit log (plan edits), platform admins only',
  stripeWebhook: 'public, authenticated by the Stripe signature; the signed event names its organization',
};

let w: World;
/**
 * Callers B refuses: a member since suspended, an account since deleted, and B's own keys (one with org:read only,
 * one with all a key may hold).
 */
let suspended: SignedInUser;
let deleted: SignedInUser;
let narrowKeyB: string;
let broadKeyB: string;
/** How many members B's owner sees listed (the suspended member among them). */
let membersOfB: number;
/** Where the write samples go from their legitimate callers (`handedOver` for ownership, leaving and deletion). */
let throwaway: World;
let handedOver: World;
let admin: SignedInUser;

/** Everything of B a caller could observe or change. */
async function snapshotOfB() {
  const token = w.b.accessToken;
  const [org, members, invitations, roles, clients, credits, models, credentials, rules, subscription, payments, usage] =
    await Promise.all(
      [
        '',
        '/members',
        '/invitations',
        '/roles',
        '/api-clients',
        '/credits',
        '/models',
        '/provider-credentials',
        '/routing-rules',
        '/subscription',
        '/payments',
        '/usage',
      ].map((s) => api('GET', `/v1/orgs/${w.orgB}${s}`, { token })),
    );
  const sessions = await api('GET', '/v1/me/sessions', { token });
  const notifications = await api('GET', '/v1/me/notifications', { token });
  const [myCredentials, favorites] = await Promise.all(
    ['/provider-credentials', '/favorite-models'].map((s) => api('GET', `/v1/me${s}`, { token })),
  );
  return {
    models: models!.body,
    credentials: credentials!.body,
    rules: rules!.body,
    myCredentials: myCredentials!.body,
    favorites: favorites!.body,
    org: org!.body,
    members: members!.body,
    invitations: invitations!.body,
    roles: roles!.body,
    clients: clients!.body,
    credits: credits!.body,
    subscription: subscription!.body,
    payments: payments!.body,
    usage: usage!.body,
    sessions: sessions.body.items.map((s: { sessionId: string }) => s.sessionId),
    notifications: notifications.body,
  };
}

beforeAll(async () => {
  [w, throwaway, handedOver, admin, suspended, deleted] = await Promise.all([
    buildWorld(),
    buildWorld(),
    buildWorld(),
    signUpPlatformAdmin('tenant-admin'),
    signUpUser('tenant-b-suspended'),
    signUpUser('tenant-b-deleted'),
  ]);
  // Both join B as admins, so that what refuses them is the suspension or the deletion, not their role.
  await Promise.all([addMember(w.b, w.orgB, suspended, 'admin'), addMember(w.b, w.orgB, deleted, 'admin')]);
  const [suspension, deletion, narrow, broad] = await Promise.all([
    api('PATCH', `/v1/orgs/${w.orgB}/members/${suspended.userId}`, { token: w.b.accessToken, body: { isActive: false } }),
    api('DELETE', '/v1/me', { token: deleted.accessToken }),
    api('POST', `/v1/orgs/${w.orgB}/api-clients`, { token: w.b.accessToken, body: { name: 'B narrow', scopes: ['org:read'] } }),
    api('POST', `/v1/orgs/${w.orgB}/api-clients`, {
      token: w.b.accessToken,
      body: { name: 'B broad', scopes: PERMISSIONS.filter((p) => p !== 'org:delete') },
    }),
  ]);
  expect([suspension.status, deletion.status, narrow.status, broad.status], JSON.stringify(suspension.body)).toEqual([
    200, 204, 201, 201,
  ]);
  narrowKeyB = narrow.body.key;
  broadKeyB = broad.body.key;
  const members = await api('GET', `/v1/orgs/${w.orgB}/members`, { token: w.b.accessToken });
  membersOfB = members.body.items.length;
  const listed = members.body.items.map((m: { userId: string }) => m.userId);
  expect(listed).toEqual(expect.arrayContaining([w.b.userId, w.bMember.userId, suspended.userId]));
});

describe('tenant isolation across the route manifest', () => {
  it('classifies every route: tested against another tenant, or not tenant-scoped with a reason', () => {
    const unclassified = routes.map((r) => r.id).filter((id) => !(id in samples) && !(id in notTenantScoped));
    expect(unclassified).toEqual([]);
    for (const route of routes.filter((r) => r.path.includes('{orgId}'))) expect(samples).toHaveProperty(route.id);
  });

  // Destructive routes last: were one to succeed, it must not hide what the others would do.
  const destructive = ['removeMember', 'leaveOrg', 'deleteOrg'];
  const tenantRoutes = routes
    .filter((r) => r.id in samples)
    .sort((x, y) => destructive.indexOf(x.id) - destructive.indexOf(y.id));
  const callers = [
    { name: 'an owner of another organization', credentials: () => ({ token: w.a.accessToken }) },
    { name: 'an API key of another organization', credentials: () => ({ apiKey: w.keyA }) },
  ];

  // The control: a read aimed at B answers B's own owner, so each refusal below is for the caller, not for a sample
  // naming nothing (a wrong id would be a 404 to anyone).
  describe('B’s own owner', () => {
    for (const route of tenantRoutes.filter((r) => r.method === 'GET')) {
      it(`${route.method} ${route.path} answers with 2xx: the sample names B’s own resources`, async () => {
        const sample = samples[route.id]!(w);
        const res = await api('GET', fill(route, sample.path, sample.query), { token: w.b.accessToken, headers: sample.headers });
        expect(res.status, `${route.id} answered ${res.status}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
      });
    }
  });

  // The control of the writes: each sample, sent by whoever may send it, answers 2xx, so its refusals below are for the
  // caller too. In worlds of their own, so that B's snapshot stays as it is. Each membership change of the sample
  // ends what another needs, so those three go in their own world, in the one order where each is its caller's to make.
  describe('B’s own (a platform admin on admin routes), in worlds of their own', () => {
    const handOver: Record<string, { who: string; caller: (v: World) => SignedInUser }> = {
      transferOwnership: { who: 'B’s owner', caller: (v) => v.b },
      leaveOrg: { who: 'B’s former owner, an admin since the transfer', caller: (v) => v.b },
      deleteOrg: { who: 'B’s member, its owner since the transfer', caller: (v) => v.bMember },
    };
    const invitee = ['acceptInvitation', 'declineInvitation'];
    const deletions = [
      'revokeMySession',
      'deleteRole',
      'deleteCustomModel',
      'deleteProviderCredential',
      'deleteMyProviderCredential',
      'deleteRoutingRule',
      'revokeApiClient',
      'revokeInvitation',
      'removeMember',
    ];
    const writes = tenantRoutes
      .filter((r) => r.method !== 'GET' && !(r.id in handOver) && !invitee.includes(r.id))
      .sort((x, y) => deletions.indexOf(x.id) - deletions.indexOf(y.id));
    for (const route of writes) {
      const who = route.auth === 'admin' ? 'a platform admin' : 'B’s owner';
      it(`${route.method} ${route.path} answers with 2xx to ${who}`, async () => {
        const token = route.auth === 'admin' ? admin.accessToken : throwaway.b.accessToken;
        const res = await sendSample(route, samples[route.id]!(throwaway), { token });
        expect(res.status, `${route.id} answered ${res.status}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
      });
    }
    for (const [id, { who, caller }] of Object.entries(handOver)) {
      const route = tenantRoutes.find((r) => r.id === id)!;
      it(`${route.method} ${route.path} answers with 2xx to ${who}`, async () => {
        const res = await sendSample(route, samples[id]!(handedOver), { token: caller(handedOver).accessToken });
        expect(res.status, `${id} answered ${res.status}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
      });
    }
    // Only its invitee may accept or decline an invitation, an address no caller here has: that it is B's and pending is
    // what makes a refusal below the caller's.
    it('the invitation accepted and declined below is B’s, and pending', async () => {
      const res = await api('GET', `/v1/orgs/${w.orgB}/invitations`, { token: w.b.accessToken });
      expect(res.body.items).toContainEqual(expect.objectContaining({ invitationId: w.invitationB, status: 'pending' }));
    });
  });

  // The callers are who they say: each works on A, so a refusal below is for B, not a credential that stopped working.
  it.each(callers)('$name is let into its own organization', async ({ credentials }) => {
    const own = await api('GET', `/v1/orgs/${w.orgA}`, credentials());
    expect(own.status, JSON.stringify(own.body)).toBe(200);
    const models = await api('GET', '/openai/v1/models', credentials());
    expect(models.status, JSON.stringify(models.body)).toBe(200);
  });

  for (const caller of callers) {
    describe(caller.name, () => {
      for (const route of tenantRoutes) {
        if (caller.name.startsWith('an API key') && route.auth !== 'principal') continue;
        it(`${route.method} ${route.path} gets 403/404 and changes nothing`, async () => {
          const before = await snapshotOfB();
          expect(before.org.orgId, 'B must be intact before each attempt').toBe(w.orgB);
          expect(before.members.items).toHaveLength(membersOfB);
          const res = await sendSample(route, samples[route.id]!(w), caller.credentials());
          expect([403, 404], `${route.id} answered ${res.status}: ${JSON.stringify(res.body)}`).toContain(res.status);
          expect(await snapshotOfB()).toEqual(before);
        });
      }
    });
  }

  // B's own keys work on B, where their scopes reach: a refusal below is for the route, not a key that stopped working.
  it('B’s own keys are let into B', async () => {
    for (const apiKey of [narrowKeyB, broadKeyB]) {
      const own = await api('GET', `/v1/orgs/${w.orgB}`, { apiKey });
      expect(own.status, JSON.stringify(own.body)).toBe(200);
    }
    const members = await api('GET', `/v1/orgs/${w.orgB}/members`, { apiKey: broadKeyB });
    expect(members.status, JSON.stringify(members.body)).toBe(200);
  });

  // The callers B itself refuses, each on every route it could try, with the one status README promises. Their
  // requests go out in batches, destructive ones last, and B is compared once before and once after each kind.
  const everyRoute = authenticatedRoutes().sort((x, y) => destructive.indexOf(x.id) - destructive.indexOf(y.id));
  const refused = [
    {
      name: 'a suspended member of B (an admin there)',
      credentials: () => ({ token: suspended.accessToken }),
      routes: tenantRoutes.filter((r) => r.auth !== 'admin'),
      status: 404,
    },
    {
      name: 'a deleted account that was a member of B (an admin there)',
      credentials: () => ({ token: deleted.accessToken }),
      routes: tenantRoutes.filter((r) => r.auth !== 'admin'),
      status: 404,
    },
    {
      name: 'B’s own API key without the route’s scope (it holds org:read only)',
      credentials: () => ({ apiKey: narrowKeyB }),
      routes: tenantRoutes.filter((r) => r.auth === 'principal' && r.permission && r.permission !== 'org:read'),
      status: 403,
    },
    {
      name: 'B’s owner, who is not a platform admin, on the admin-only routes',
      credentials: () => ({ token: w.b.accessToken }),
      routes: everyRoute.filter((r) => r.auth === 'admin'),
      status: 403,
    },
    {
      name: 'B’s own API key, with every scope a key may hold, on the routes only a user may call',
      credentials: () => ({ apiKey: broadKeyB }),
      routes: everyRoute.filter((r) => r.auth === 'user' || r.auth === 'admin'),
      status: 401,
    },
    { name: 'no credentials at all, on every authenticated route', credentials: () => ({}), routes: everyRoute, status: 401 },
  ];
  for (const { name, credentials, routes: tried, status } of refused) {
    it(`${name}: ${status} on each route, and nothing of B changes`, async () => {
      expect(tried.length).toBeGreaterThan(0);
      const before = await snapshotOfB();
      expect(before.members.items).toHaveLength(membersOfB);
      const answers = await inBatches(tried, async (route) => {
        const res = await sendSample(route, sampleFor(route, w), credentials());
        return `${route.id} answered ${res.status}${res.status === status ? '' : `: ${JSON.stringify(res.body).slice(0, 200)}`}`;
      });
      expect(answers).toEqual(tried.map((route) => `${route.id} answered ${status}`));
      expect(await snapshotOfB()).toEqual(before);
    }, 60_000);
  }
});
