import type { DemoData, LocalCloud } from './cloud.ts';

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
  return {
    admin: { email: DEMO.admin.email, password: DEMO.admin.password },
    user: { email: DEMO.user.email, password: DEMO.user.password },
    teamOrgId: team.orgId,
  };
}

/**
 * There is no Bedrock on a laptop: two global routing rules (tried after every organization's
 * own) send text, embedding and image calls to the local models. Demo data like the users:
 * delete them (`/v1/admin/routing-rules`) to call real providers from `npm run dev`.
 */
export const LOCAL_ROUTING_RULES = [
  {
    name: 'Local development: text and embeddings',
    modelType: 'TEXT' as const,
    targets: [
      { modelId: 'local-chat', weight: 1 },
      { modelId: 'local-embed', weight: 1 },
    ],
  },
  { name: 'Local development: images', modelType: 'IMAGE' as const, targets: [{ modelId: 'local-image', weight: 1 }] },
];

async function ensureLocalRouting() {
  const { createRule, listRules } = await import('@platform/domain/hub/routing-rules');
  const { PLATFORM } = await import('@platform/domain/hub/owners');
  const owner = { kind: 'platform' as const, key: PLATFORM, actorId: 'local-seed', actorType: 'user' as const };
  const existing = await listRules(owner);
  for (const rule of LOCAL_ROUTING_RULES)
    if (!existing.some((r) => r.name === rule.name))
      await createRule(owner, { ...rule, priority: 100, conditions: {}, fallbacks: [], isActive: true });
}
