import { expect } from 'vitest';
import { routes } from '@platform/api/manifest';
import { DEFAULT_CONFIGS } from '@platform/domain/hub/admin-config';
import { PERMISSIONS } from '@platform/domain/identity/permissions';
import { notify } from '@platform/domain/notifications/notify';
import { newId } from '@platform/domain/shared/ids';
import type { RouteDefinition } from '@platform/http/route';
import { api, createTeam, signUpUser, type SignedInUser } from './api.ts';
import { EXISTING_NAMES, boundaryValues } from './boundary-values.ts';

/**
 * A valid request for every authenticated route of the manifest, aimed at an organization B and
 * its members: the cross-tenant suite sends them as callers who may not, and checks that each is
 * refused to them and answered to B's own (test/security/cross-tenant.test.ts); a deleted account
 * sends them to check that its token is refused everywhere (test/e2e/me.test.ts).
 */
export interface World {
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
  /** A custom model of B that no routing rule names, so that deleting it is not refused to B's own owner. */
  spareModelB: string;
  credentialB: string;
  ruleB: string;
  myCredentialB: string;
}

export interface SampleRequest {
  path: Record<string, string>;
  body?: unknown;
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

export type Sample = (w: World) => SampleRequest;

/** The AI gateway acts for the organization this header names (a user's default one without it). */
const forB = (w: World) => ({ 'openai-organization': w.orgB });

export const customModel = {
  providerSlug: 'bedrock',
  providerModelId: 'intruder-model',
  name: 'Intruder',
  type: 'TEXT',
  pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
};
export const routingRule = (modelId: string) => ({
  name: 'Intruder',
  priority: 1,
  modelType: 'TEXT',
  targets: [{ modelId, weight: 1 }],
});

/** A valid request aimed at B, for every route that names a tenant resource. */
export const samples: Record<string, Sample> = {
  getOrg: (w) => ({ path: { orgId: w.orgB } }),
  updateOrg: (w) => ({ path: { orgId: w.orgB }, body: { name: 'Taken over' } }),
  deleteOrg: (w) => ({ path: { orgId: w.orgB } }),
  leaveOrg: (w) => ({ path: { orgId: w.orgB } }),
  listMembers: (w) => ({ path: { orgId: w.orgB } }),
  updateMember: (w) => ({ path: { orgId: w.orgB, userId: w.bMember.userId }, body: { role: 'owner' } }),
  removeMember: (w) => ({ path: { orgId: w.orgB, userId: w.bMember.userId } }),
  // To a member of B: to anyone else it would be "Member not found" for B's own owner too.
  transferOwnership: (w) => ({ path: { orgId: w.orgB }, body: { userId: w.bMember.userId } }),
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
  // Not the model B's routing rule sends calls to: deleting that one is a 409 to anyone.
  deleteCustomModel: (w) => ({ path: { orgId: w.orgB, modelId: w.spareModelB } }),
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

/**
 * Path values of the authenticated routes that name no tenant resource (the caller's own, or
 * the platform's): ids that are well formed, so a refusal is never the validation's, and name
 * nothing that exists where a route would create or overwrite it.
 */
const ownPath: Record<string, string> = {
  slug: 'refused-provider',
  modelId: 'refused-model',
  planId: 'refused-plan',
  credentialId: 'pcr_01jq0000000000000000000000',
  ruleId: 'rtr_01jq0000000000000000000000',
  configKey: 'routing_agent',
};

/**
 * Bodies a handler checks beyond the route's schema before it acts (an admin config's shape depends on its key),
 * so that the one the schema accepts would be a 400 to anyone.
 */
const ownBodies: Record<string, unknown> = {
  saveAdminConfig: DEFAULT_CONFIGS[ownPath.configKey!],
};

/** The smallest body its schema accepts (built from the schema, so a new route has one too). */
function someValidBody(route: RouteDefinition): unknown {
  if (route.id in ownBodies) return ownBodies[route.id];
  const schema = route.schemas.body;
  if (!schema) return undefined;
  const body = boundaryValues(schema, EXISTING_NAMES).find((value) => schema.safeParse(value).success);
  if (body === undefined) throw new Error(`No valid body for ${route.id}: give it a sample`);
  return body;
}

/** The request `route` gets in these suites: B's sample where it has one, else a valid one naming nothing of anyone's. */
export function sampleFor(route: RouteDefinition, w: World): SampleRequest {
  if (route.id in samples) return samples[route.id]!(w);
  return {
    path: Object.fromEntries(route.path.match(/\{\w+\}/g)?.map((p) => [p.slice(1, -1), ownPath[p.slice(1, -1)]!]) ?? []),
    body: someValidBody(route),
  };
}

/** Every route a caller needs credentials for, the local cloud's own aside. */
export const authenticatedRoutes = () => routes.filter((r) => r.auth !== 'public' && !r.localOnly);

/** The path of `route` with `values` put in (and `query` after it). */
export function fill(route: RouteDefinition, values: Record<string, string>, query?: Record<string, string>) {
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? 'missing');
  return query ? `${path}?${new URLSearchParams(query)}` : path;
}

/** Sends `route`'s sample with `credentials`, B's sample headers beside them. */
export function sendSample(route: RouteDefinition, sample: SampleRequest, credentials: { token?: string; apiKey?: string }) {
  return api(route.method, fill(route, sample.path, sample.query), {
    ...credentials,
    body: sample.body,
    headers: sample.headers,
  });
}

/**
 * A world of fresh users: B (owner of team B, with a member), A (owner of team A, with a key
 * holding every scope a key may), and one of each resource of B the samples name.
 */
export async function buildWorld(): Promise<World> {
  const w = {} as World;
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
  const [model, spareModel, credential, myCredential] = await Promise.all([
    api('POST', `/v1/orgs/${w.orgB}/models`, { token: w.b.accessToken, body: { ...customModel, name: 'B model' } }),
    api('POST', `/v1/orgs/${w.orgB}/models`, {
      token: w.b.accessToken,
      body: { ...customModel, providerModelId: 'spare-model', name: 'B spare model' },
    }),
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
  w.spareModelB = spareModel!.body.modelId;
  w.credentialB = credential!.body.credentialId;
  w.myCredentialB = myCredential!.body.credentialId;
  const rule = await api('POST', `/v1/orgs/${w.orgB}/routing-rules`, { token: w.b.accessToken, body: routingRule(w.modelB) });
  w.ruleB = rule.body.ruleId;
  const favorite = await api('PUT', `/v1/me/favorite-models/${w.modelB}?orgId=${w.orgB}`, { token: w.b.accessToken });
  expect(favorite.status).toBe(200);
  expect(
    [
      w.invitationB,
      w.roleB,
      w.clientB,
      w.keyA,
      w.notificationB,
      w.modelB,
      w.spareModelB,
      w.credentialB,
      w.ruleB,
      w.myCredentialB,
    ].every(Boolean),
  ).toBe(true);
  return w;
}

/**
 * A world of one user, everyone in it `user` and every id in it well formed and new: for a
 * caller refused before anything is looked up (a deleted account), without making a whole world.
 */
export function worldOf(user: SignedInUser): World {
  return {
    a: user,
    b: user,
    bMember: user,
    orgA: user.personalOrgId,
    orgB: user.personalOrgId,
    keyA: '',
    invitationB: newId('inv'),
    roleB: newId('role'),
    clientB: newId('ak'),
    notificationB: newId('ntf'),
    modelB: newId('mdl'),
    spareModelB: newId('mdl'),
    credentialB: newId('pcr'),
    ruleB: newId('rtr'),
    myCredentialB: newId('pcr'),
  };
}

/** Runs `send` for each of `items`, `width` at a time (DynamoDB Local and two CI cores, not a thousand requests at once). */
export async function inBatches<T, R>(items: readonly T[], send: (item: T) => Promise<R>, width = 8): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(send))));
  return out;
}
