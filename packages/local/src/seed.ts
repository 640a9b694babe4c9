import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { DEFAULT_MODELS } from '@platform/domain/hub/default-models';
import type { ModelType } from '@platform/domain/gateway/types';
import type { Capability } from '@platform/domain/hub/enums';
import { REPO_ROOT, type DemoData, type LocalCloud } from './cloud.ts';

export const DEMO = {
  admin: { email: 'admin@example.com', password: 'Admin-Passw0rd!', fullName: 'Platform Admin' },
  user: { email: 'demo@example.com', password: 'Demo-Passw0rd!', fullName: 'Demo User' },
  team: { name: 'Demo Team', slug: 'demo-team' },
};

/** Signs a user up through the real flow (code from the outbox, confirmation trigger). */
async function ensureAccount(cloud: LocalCloud, account: { email: string; password: string; fullName: string }) {
  const { identityProvider } = await import('@platform/domain/identity/cognito');
  try {
    await identityProvider.signUp(account.email, account.password, account.fullName);
  } catch (error) {
    if ((error as { status?: number }).status === 409) return; // kept from an earlier run
    throw error;
  }
  const code = cloud.outbox.latest(account.email)?.code;
  if (!code) throw new Error(`No verification code was sent to ${account.email}`);
  await identityProvider.confirmSignUp(account.email, code);
}

/** A platform admin and a demo user who owns a team organization. Safe to run on every start. */
export async function seedDemoData(cloud: LocalCloud): Promise<DemoData> {
  await ensureAccount(cloud, DEMO.admin);
  await ensureAccount(cloud, DEMO.user);
  const { identityProvider } = await import('@platform/domain/identity/cognito');
  await identityProvider.addToGroup(DEMO.admin.email, 'admin');

  const { signIn } = await import('@platform/domain/identity/auth');
  const { subjectOf } = await import('@platform/domain/identity/sessions');
  const { listMyOrganizations, createOrganization } = await import('@platform/domain/identity/organizations');
  const tokens = await signIn(DEMO.user.email, DEMO.user.password, { deviceInfo: 'seed' });
  if (!('accessToken' in tokens)) throw new Error('The demo user unexpectedly needs MFA');
  const userId = subjectOf(tokens.accessToken);
  const mine = await listMyOrganizations(userId, { limit: 100 });
  const team =
    mine.items.find((o) => o.slug === DEMO.team.slug) ??
    (await createOrganization({ kind: 'user', userId, groups: [], isPlatformAdmin: false }, { ...DEMO.team, orgType: 'TEAM' }));
  await ensureLocalRouting();
  await ensureSampleEventAccount();
  return {
    admin: { email: DEMO.admin.email, password: DEMO.admin.password },
    user: { email: DEMO.user.email, password: DEMO.user.password },
    teamOrgId: team.orgId,
  };
}

/**
 * The user of `events/post-confirmation.json`, provisioned by the same trigger handler, so that
 * `events/stripe-webhook.json` (a credit pack for that user's personal organization) applies when
 * `npm run -s stripe:sign -- --post` delivers it to `npm run dev`. Idempotent, like the trigger.
 */
export async function ensureSampleEventAccount(): Promise<void> {
  const event = JSON.parse(
    readFileSync(join(REPO_ROOT, 'events/post-confirmation.json'), 'utf8'),
  ) as PostConfirmationTriggerEvent;
  const { handler } = await import(pathToFileURL(join(REPO_ROOT, 'functions/identity/post-confirmation.ts')).href);
  await handler(event);
}

/**
 * The catalogue's models of `type` that can do `capability`, by id (aliases and provider model
 * ids match through them). The local models themselves are left out: a call for one is served by
 * it, as any model without a rule is, so one it cannot serve (embeddings of `local-chat`) is the
 * 422 it is on AWS.
 */
const catalogueModelsFor = (type: ModelType, capability: Capability) =>
  Object.values(DEFAULT_MODELS)
    .filter((m) => (m.type === 'CODE' ? 'TEXT' : m.type) === type && m.capabilities.includes(capability))
    .filter((m) => m.providerSlug !== 'local')
    .map((m) => m.modelId);

/**
 * There is no Bedrock on a laptop: global routing rules (tried after every organization's own)
 * send calls for the catalogue's chat, embedding and image models to the local model of the same
 * kind, one rule each, so a model that cannot serve a call (a chat model asked for embeddings) is
 * still the 422 it is on AWS. They name those models, so an unknown model is a 404 here as on
 * AWS, not a local answer. Demo data like the users: delete them (`/v1/admin/routing-rules`) to
 * call real providers from `npm run dev`.
 */
export const LOCAL_ROUTING_RULES = [
  {
    name: 'Local development: chat',
    modelType: 'TEXT' as const,
    conditions: { models: catalogueModelsFor('TEXT', 'chat') },
    targets: [{ modelId: 'local-chat', weight: 1 }],
  },
  {
    name: 'Local development: embeddings',
    modelType: 'TEXT' as const,
    conditions: { models: catalogueModelsFor('TEXT', 'embeddings') },
    targets: [{ modelId: 'local-embed', weight: 1 }],
  },
  {
    name: 'Local development: images',
    modelType: 'IMAGE' as const,
    conditions: { models: catalogueModelsFor('IMAGE', 'images') },
    targets: [{ modelId: 'local-image', weight: 1 }],
  },
];

/** Rules an earlier version seeded: one rule for text and embeddings served either kind of call with either local model. */
const RETIRED_LOCAL_RULES = ['Local development: text and embeddings'];

async function ensureLocalRouting() {
  const { createRule, deleteRule, listRules, patchRule } = await import('@platform/domain/hub/routing-rules');
  const { PLATFORM } = await import('@platform/domain/hub/owners');
  const owner = { kind: 'platform' as const, key: PLATFORM, actorId: 'local-seed', actorType: 'user' as const };
  const existing = await listRules(owner);
  for (const retired of existing.filter((r) => RETIRED_LOCAL_RULES.includes(r.name))) await deleteRule(owner, retired.ruleId);
  for (const rule of LOCAL_ROUTING_RULES) {
    const kept = existing.find((r) => r.name === rule.name);
    if (!kept) await createRule(owner, { ...rule, priority: 100, fallbacks: [], isActive: true });
    // Seeded by an earlier version with other conditions (none: it answered every unknown model).
    else if (JSON.stringify(kept.conditions.models) !== JSON.stringify(rule.conditions.models))
      await patchRule(owner, kept.ruleId, { conditions: rule.conditions });
  }
}
