import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '@platform/api/manifest';
import { PERMISSIONS } from '@platform/domain/identity/permissions';
import { notify } from '@platform/domain/notifications/notify';
import type { RouteDefinition } from '@platform/http/route';
import { api, createTeam, signUpUser, type SignedInUser } from '../helpers/api.ts';

/**
 * Tenant isolation, route by route from the manifest: a member of organization A (its owner,
 * holding every permission there) and A's API key reach for organization B's resources and
 * get 403 or 404 (not 401: both are let into A), and nothing of B changes.
 */
interface World {
  a: SignedInUser;
  b: SignedInUser;
  bMember: SignedInUser;
  orgA: string;
  orgB: string;
  keyA: string;
  invitationB: string;
  roleB: string;
  clientB: string;
  notificationB: string;
  modelB: string;
  credentialB: string;
  ruleB: string;
  myCredentialB: string;
}

type Sample = (w: World) => {
  path: Record<string, string>;
  body?: unknown;
  query?: Record<string, string>;
  headers?: Record<string, string>;
};

/** The AI gateway acts for the organization this header names (a user's default one without it). */
const forB = (w: World) => ({ 'openai-organization': w.orgB });

const customModel = {
  providerSlug: 'bedrock',
  providerModelId: 'intruder-model',
  name: 'Intruder',
  type: 'TEXT',
  pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
};
const routingRule = (modelId: string) => ({
  name: 'Intruder',
  priority: 1,
  modelType: 'TEXT',
  targets: [{ modelId, weight: 1 }],
});

/** A valid request aimed at B, for every route that names a tenant resource. */
const samples: Record<string, Sample> = {
  getOrg: (w) => ({ path: { orgId: w.orgB } }),
  updateOrg: (w) => ({ path: { orgId: w.orgB }, body: { name: 'Taken over' } }),
  deleteOrg: (w) => ({ path: { orgId: w.orgB } }),
  leaveOrg: (w) => ({ path: { orgId: w.orgB } }),
  listMembers: (w) => ({ path: { orgId: w.orgB } }),
  updateMember: (w) => ({ path: { orgId: w.orgB, userId: w.bMember.userId }, body: { role: 'owner' } }),
  removeMember: (w) => ({ path: { orgId: w.orgB, userId: w.bMember.userId } }),
  transferOwnership: (w) => ({ path: { orgId: w.orgB }, body: { userId: w.a.userId } }),
  createInvitation: (w) => ({ path: { orgId: w.orgB }, body: { email: w.a.email, role: 'owner' } }),
  listInvitations: (w) => ({ path: { orgId: w.orgB } }),
  revokeInvitation: (w) => ({ path: { orgId: w.orgB, invitationId: w.invitationB } }),
  acceptInvitation: (w) => ({ path: { invitationId: w.invitationB } }),
  declineInvitation: (w) => ({ path: { invitationId: w.invitationB } }),
  listRoles: (w) => ({ path: { orgId: w.orgB } }),
  createRole: (w) => ({ path: { orgId: w.orgB }, body: { name: 'Intruder', permissions: ['org:read'] } }),
  updateRole: (w) => ({ path: { orgId: w.orgB, roleId: w.roleB }, body: { permissions: ['org:read', 'org:update'] } }),
  deleteRole: (w) => ({ path: { orgId: w.orgB, roleId: w.roleB } }),
  createApiClient: (w) => ({ path: { orgId: w.orgB }, body: { name: 'Intruder', scopes: ['org:read'] } }),
  listApiClients: (w) => ({ path: { orgId: w.orgB } }),
  revokeApiClient: (w) => ({ path: { orgId: w.orgB, clientId: w.clientB } }),
  listAuditEvents: (w) => ({ path: { orgId: w.orgB } }),
  revokeMySession: (w) => ({ path: { sessionId: w.b.sessionId } }),
  markNotificationRead: (w) => ({ path: { notificationId: w.notificationB } }),
  getCredits: (w) => ({ path: { orgId: w.orgB } }),
  getSubscription: (w) => ({ path: { orgId: w.orgB } }),
  getLimits: (w) => ({ path: { orgId: w.orgB } }),
  setLimitOverride: (w) => ({ path: { orgId: w.orgB }, body: { subject: 'org', resource: 'api', hourly: 1 } }),
  listCreditTransactions: (w) => ({ path: { orgId: w.orgB } }),
  adjustCredits: (w) => ({ path: { orgId: w.orgB }, body: { amount: 1000, reason: 'free credits for me' } }),
  listUsage: (w) => ({ path: { orgId: w.orgB } }),
  getDailyUsage: (w) => ({ path: { orgId: w.orgB } }),
  exportUsage: (w) => ({ path: { orgId: w.orgB } }),
  listModels: (w) => ({ path: {}, query: { orgId: w.orgB } }),
  getModel: (w) => ({ path: { modelId: w.modelB }, query: { orgId: w.orgB } }),
  createCustomModel: (w) => ({ path: { orgId: w.orgB }, body: customModel }),
  listCustomModels: (w) => ({ path: { orgId: w.orgB } }),
  getCustomModel: (w) => ({ path: { orgId: w.orgB, modelId: w.modelB } }),
  updateCustomModel: (w) => ({ path: { orgId: w.orgB, modelId: w.modelB }, body: { name: 'Taken over' } }),
  deleteCustomModel: (w) => ({ path: { orgId: w.orgB, modelId: w.modelB } }),
  addFavoriteModel: (w) => ({ path: { modelId: w.modelB }, query: { orgId: w.orgB } }),
  removeFavoriteModel: (w) => ({ path: { modelId: w.modelB } }),
  createProviderCredential: (w) => ({
    path: { orgId: w.orgB },
    body: { label: 'Intruder', providerSlug: 'openai', key: 'sk-intruder-0000000000' },
  }),
  listProviderCredentials: (w) => ({ path: { orgId: w.orgB } }),
  getProviderCredential: (w) => ({ path: { orgId: w.orgB, credentialId: w.credentialB } }),
  updateProviderCredential: (w) => ({
    path: { orgId: w.orgB, credentialId: w.credentialB },
    body: { key: 'sk-intruder-0000000000', baseUrl: 'https://evil.example.com/v1' },
  }),
  deleteProviderCredential: (w) => ({ path: { orgId: w.orgB, credentialId: w.credentialB } }),
  testProviderCredential: (w) => ({ path: { orgId: w.orgB, credentialId: w.credentialB } }),
  getMyProviderCredential: (w) => ({ path: { credentialId: w.myCredentialB } }),
  updateMyProviderCredential: (w) => ({ path: { credentialId: w.myCredentialB }, body: { label: 'Taken over' } }),
  deleteMyProviderCredential: (w) => ({ path: { credentialId: w.myCredentialB } }),
  testMyProviderCredential: (w) => ({ path: { credentialId: w.myCredentialB } }),
  createRoutingRule: (w) => ({ path: { orgId: w.orgB }, body: routingRule('nova-micro') }),
  listRoutingRules: (w) => ({ path: { orgId: w.orgB } }),
  getRoutingRule: (w) => ({ path: { orgId: w.orgB, ruleId: w.ruleB } }),
  updateRoutingRule: (w) => ({ path: { orgId: w.orgB, ruleId: w.ruleB }, body: { priority: 100, isActive: false } }),
  deleteRoutingRule: (w) => ({ path: { orgId: w.orgB, ruleId: w.ruleB } }),
  changeSubscriptionPlan: (w) => ({ path: { orgId: w.orgB }, body: { planId: 'pro' } }),
  cancelSubscription: (w) => ({ path: { orgId: w.orgB } }),
  resumeSubscription: (w) => ({ path: { orgId: w.orgB } }),
  createCheckout: (w) => ({ path: { orgId: w.orgB }, body: { packId: 'credits-1000' } }),
  listPayments: (w) => ({ path: { orgId: w.orgB } }),
  createChatCompletion: (w) => ({
    path: {},
    headers: forB(w),
    body: { model: 'local-chat', messages: [{ role: 'user', content: 'Charge this to B' }] },
  }),
  createEmbeddings: (w) => ({ path: {}, headers: forB(w), body: { model: 'local-embed', input: ['Charge this to B'] } }),
  createImages: (w) => ({
    path: {},
    headers: forB(w),
    body: { model: 'local-image', prompt: 'Charge this to B', size: '256x256' },
  }),
  listOpenAiModels: (w) => ({ path: {}, headers: forB(w) }),
  getOpenAiModel: (w) => ({ path: { modelId: 'local-chat' }, headers: forB(w) }),
  getModelMetrics: (w) => ({ path: { modelId: 'local-chat' }, query: { orgId: w.orgB } }),
  recordManualPayment: (w) => ({
    path: { orgId: w.orgB },
    body: { provider: 'PayPal', reference: 'CAPTURE-INTRUDER', amountMinor: 100, currency: 'USD', packId: 'credits-20000' },
  }),
};

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

const w = {} as World;

function fill(route: RouteDefinition, values: Record<string, string>, query?: Record<string, string>) {
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? 'missing');
  return query ? `${path}?${new URLSearchParams(query)}` : path;
}

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
  [w.a, w.b, w.bMember] = await Promise.all([signUpUser('tenant-a'), signUpUser('tenant-b'), signUpUser('tenant-b-member')]);
  const [teamA, teamB] = await Promise.all([createTeam(w.a), createTeam(w.b, [{ user: w.bMember, role: 'editor' }])]);
  w.orgA = teamA.orgId;
  w.orgB = teamB.orgId;
  const outsider = `outsider-${Date.now()}@example.test`;
  const [invitation, role, client, keyA] = await Promise.all([
    api('POST', `/v1/orgs/${w.orgB}/invitations`, { token: w.b.accessToken, body: { email: outsider, role: 'viewer' } }),
    api('POST', `/v1/orgs/${w.orgB}/roles`, { token: w.b.accessToken, body: { name: 'Auditor', permissions: ['audit:read'] } }),
    api('POST', `/v1/orgs/${w.orgB}/api-clients`, { token: w.b.accessToken, body: { name: 'B key', scopes: ['org:read'] } }),
    api('POST', `/v1/orgs/${w.orgA}/api-clients`, {
      token: w.a.accessToken,
      body: {
        name: 'A key',
        scopes: PERMISSIONS.filter((p) => p !== 'org:delete' && p !== 'members:transfer-ownership'),
      },
    }),
  ]);
  w.invitationB = invitation!.body.invitationId;
  w.roleB = role!.body.roleId;
  w.clientB = client!.body.clientId;
  w.keyA = keyA!.body.key;
  ({ notificationId: w.notificationB } = await notify({
    userId: w.b.userId,
    type: 'system',
    title: 'For B',
    message: 'Private',
  }));
  const [model, credential, myCredential] = await Promise.all([
    api('POST', `/v1/orgs/${w.orgB}/models`, { token: w.b.accessToken, body: { ...customModel, name: 'B model' } }),
    api('POST', `/v1/orgs/${w.orgB}/provider-credentials`, {
      token: w.b.accessToken,
      body: { label: 'B key', providerSlug: 'openai', key: 'sk-b-secret-0000000000' },
    }),
    api('POST', '/v1/me/provider-credentials', {
      token: w.b.accessToken,
      body: { label: 'B personal key', providerSlug: 'anthropic', key: 'sk-ant-b-personal-00000' },
    }),
  ]);
  w.modelB = model!.body.modelId;
  w.credentialB = credential!.body.credentialId;
  w.myCredentialB = myCredential!.body.credentialId;
  const rule = await api('POST', `/v1/orgs/${w.orgB}/routing-rules`, { token: w.b.accessToken, body: routingRule(w.modelB) });
  w.ruleB = rule.body.ruleId;
  const favorite = await api('PUT', `/v1/me/favorite-models/${w.modelB}?orgId=${w.orgB}`, { token: w.b.accessToken });
  expect(favorite.status).toBe(200);
  expect(
    [w.invitationB, w.roleB, w.clientB, w.keyA, w.notificationB, w.modelB, w.credentialB, w.ruleB, w.myCredentialB].every(
      Boolean,
    ),
  ).toBe(true);
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
          expect(before.members.items).toHaveLength(2);
          const sample = samples[route.id]!(w);
          const res = await api(route.method, fill(route, sample.path, sample.query), {
            ...caller.credentials(),
            body: sample.body,
            headers: sample.headers,
          });
          expect([403, 404], `${route.id} answered ${res.status}: ${JSON.stringify(res.body)}`).toContain(res.status);
          expect(await snapshotOfB()).toEqual(before);
        });
      }
    });
  }
});
