import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '@platform/api/manifest';
import { PERMISSIONS } from '@platform/domain/identity/permissions';
import { notify } from '@platform/domain/notifications/notify';
import type { RouteDefinition } from '@platform/http/route';
import { api, createTeam, signUpUser, type SignedInUser } from '../helpers/api.ts';

/**
 * Tenant isolation, route by route from the manifest: a member of organization A (its owner,
 * holding every permission there) and A's API key reach for organization B's resources and
 * get 403 or 404, and nothing of B changes.
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
}

type Sample = (w: World) => { path: Record<string, string>; body?: unknown };

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
  changeSubscriptionPlan: (w) => ({ path: { orgId: w.orgB }, body: { planId: 'pro' } }),
  cancelSubscription: (w) => ({ path: { orgId: w.orgB } }),
  resumeSubscription: (w) => ({ path: { orgId: w.orgB } }),
  createCheckout: (w) => ({ path: { orgId: w.orgB }, body: { packId: 'credits-1000' } }),
  listPayments: (w) => ({ path: { orgId: w.orgB } }),
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
  listCreditPacks: 'public catalogue',
  listPlatformAuditEvents: 'the platform’s own audit log (plan edits), platform admins only',
  stripeWebhook: 'public, authenticated by the Stripe signature; the signed event names its organization',
};

const w = {} as World;

function fill(route: RouteDefinition, values: Record<string, string>) {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? 'missing');
}

/** Everything of B a caller could observe or change. */
async function snapshotOfB() {
  const token = w.b.accessToken;
  const [org, members, invitations, roles, clients, credits, subscription, payments] = await Promise.all(
    ['', '/members', '/invitations', '/roles', '/api-clients', '/credits', '/subscription', '/payments'].map((s) =>
      api('GET', `/v1/orgs/${w.orgB}${s}`, { token }),
    ),
  );
  const sessions = await api('GET', '/v1/me/sessions', { token });
  const notifications = await api('GET', '/v1/me/notifications', { token });
  return {
    org: org!.body,
    members: members!.body,
    invitations: invitations!.body,
    roles: roles!.body,
    clients: clients!.body,
    credits: credits!.body,
    subscription: subscription!.body,
    payments: payments!.body,
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
  expect([w.invitationB, w.roleB, w.clientB, w.keyA, w.notificationB].every(Boolean)).toBe(true);
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

  for (const caller of callers) {
    describe(caller.name, () => {
      for (const route of tenantRoutes) {
        if (caller.name.startsWith('an API key') && route.auth !== 'principal') continue;
        it(`${route.method} ${route.path} gets 403/404 and changes nothing`, async () => {
          const before = await snapshotOfB();
          expect(before.org.orgId, 'B must be intact before each attempt').toBe(w.orgB);
          expect(before.members.items).toHaveLength(2);
          const sample = samples[route.id]!(w);
          const res = await api(route.method, fill(route, sample.path), { ...caller.credentials(), body: sample.body });
          expect([401, 403, 404], `${route.id} answered ${res.status}: ${JSON.stringify(res.body)}`).toContain(res.status);
          expect(await snapshotOfB()).toEqual(before);
        });
      }
    });
  }
});
