import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { findModel, resolveRoute } from '@platform/domain/gateway/routing';
import type { RouteRequest } from '@platform/domain/gateway/types';
import { createCredential, deleteCredential, patchCredential } from '@platform/domain/hub/credentials';
import { hubDb } from '@platform/domain/hub/entities';
import { saveCatalogueModel } from '@platform/domain/hub/models';
import { saveProvider } from '@platform/domain/hub/providers';
import { createRule, deleteRule, patchRule } from '@platform/domain/hub/routing-rules';
import { cachedSnapshot, forgetSnapshot, OWNER_TTL_MS, PLATFORM_TTL_MS } from '@platform/domain/hub/snapshot';
import { orgKey } from '@platform/domain/hub/owners';
import { db } from '@platform/domain/identity/entities';
import type { OrgAccess } from '@platform/domain/identity/access';
import { createCustomModel } from '@platform/domain/hub/custom-models';
import {
  countRequests,
  newOrgId,
  orgOwnerOf,
  platformOwnerOf,
  uniqueSlug,
  userOwnerOf,
  statusOf,
  ruleInput,
} from '../helpers/hub.ts';

/**
 * The router against DynamoDB Local: rules before the requested model, organization before
 * global, priority, weights, fallbacks, conditions, key strategies, and the caches that keep
 * the hot path free of DynamoDB requests. Platform-wide things (a provider, catalogue models,
 * global rules) are created under names no other test uses.
 */
const admin = platformOwnerOf();
const provider = uniqueSlug('prov');
const chatModel = uniqueSlug('t-chat');
const virtual = () => `v-${randomUUID().slice(0, 8)}`;

const request = (orgId: string, requestedModel: string, extra: Partial<RouteRequest> = {}): RouteRequest => ({
  orgId,
  requestedModel,
  type: 'TEXT',
  planId: 'free',
  apiKeyStrategy: 'PLATFORM',
  ...extra,
});
const fixed = (value: number) => ({ random: () => value });

beforeAll(async () => {
  await saveProvider(admin, provider, {
    displayName: 'Test provider',
    adapter: 'openai',
    requiresApiKey: true,
    requiresBaseUrl: false,
    supportsStreaming: true,
    capabilities: ['chat', 'stream'],
    configSchema: { type: 'object', properties: { organization: { type: 'string' } }, additionalProperties: false },
    defaultBaseUrl: 'https://api.example.com/v1',
    group: { name: 'Test' },
    status: 'Active',
  });
  await saveCatalogueModel(admin, chatModel, {
    kind: 'external',
    providerSlug: provider,
    providerModelId: 'test-chat-1',
    name: 'Test chat',
    type: 'TEXT',
    capabilities: ['chat', 'stream'],
    pricing: { inputPerMTokMicros: 1_000_000, outputPerMTokMicros: 2_000_000 },
    status: 'Active',
    tags: [],
    aliases: [],
  });
});

afterEach(() => vi.restoreAllMocks());

describe('the requested model, when no rule applies', () => {
  it('is found by id, alias or provider model id, served by the platform through the keyless Bedrock provider', async () => {
    const orgId = newOrgId();
    for (const name of ['nova-micro', 'fast', 'amazon.nova-micro-v1:0', 'FAST']) {
      const plan = await resolveRoute(request(orgId, name));
      expect(plan.ruleId).toBe('default');
      expect(plan.candidates).toHaveLength(1);
      expect(plan.candidates[0]).toMatchObject({
        modelId: 'nova-micro',
        type: 'TEXT',
        keySource: 'platform',
        reason: 'requested',
        pricing: { inputPerMTokMicros: 35_000, outputPerMTokMicros: 140_000 },
        target: { adapter: 'bedrock', providerSlug: 'bedrock', providerModelId: 'amazon.nova-micro-v1:0' },
      });
      expect(plan.candidates[0]!.target.apiKey).toBeUndefined();
      expect(plan.explanation).toMatch(/^rule=default requested=\S+ pick=nova-micro key=platform$/);
    }
  });

  it('is a 404 when unknown and a 422 when it cannot serve the call', async () => {
    const orgId = newOrgId();
    expect(await statusOf(resolveRoute(request(orgId, 'no-such-model')))).toBe(404);
    expect(await statusOf(resolveRoute(request(orgId, 'nova-canvas')))).toBe(422); // an IMAGE model for a TEXT call
    expect(await statusOf(resolveRoute(request(orgId, 'nova-micro', { operation: 'embeddings' })))).toBe(422);
    const image = await resolveRoute(request(orgId, 'default-image', { type: 'IMAGE' }));
    expect(image.candidates[0]).toMatchObject({ modelId: 'nova-canvas', pricing: { perImageMicros: 40_000 } });
  });
});

describe('an organization’s custom models', () => {
  it('shadow the catalogue’s aliases for that organization only, never a catalogue id', async () => {
    const orgId = newOrgId();
    const access = { orgId, actorId: randomUUID(), actorType: 'user' } as OrgAccess;
    const custom = await createCustomModel(access, {
      providerSlug: 'bedrock',
      providerModelId: 'amazon.nova-lite-v1:0',
      name: 'Our fast model',
      type: 'TEXT',
      capabilities: ['chat'],
      pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
      status: 'Active',
      tags: [],
      aliases: ['fast'],
    });
    expect((await resolveRoute(request(orgId, 'fast'))).candidates[0]!.modelId).toBe(custom.modelId);
    expect((await resolveRoute(request(orgId, custom.modelId))).candidates[0]).toMatchObject({
      modelName: 'Our fast model',
      target: { adapter: 'bedrock', providerModelId: 'amazon.nova-lite-v1:0' },
    });
    expect((await resolveRoute(request(newOrgId(), 'fast'))).candidates[0]!.modelId).toBe('nova-micro');
    // A catalogue id comes before any provider model id; by provider model id, the organization's own first.
    const [orgSnapshot, platformSnapshot] = await Promise.all([cachedSnapshot(orgKey(orgId)), cachedSnapshot('platform')]);
    expect(findModel('NOVA-LITE', orgSnapshot, platformSnapshot)?.modelId).toBe('nova-lite');
    expect(findModel('amazon.nova-lite-v1:0', orgSnapshot, platformSnapshot)?.modelId).toBe(custom.modelId);
  });

  it('are charged at the catalogue’s price through the platform’s key, at their own through an own key', async () => {
    const orgId = newOrgId();
    const access = { orgId, actorId: randomUUID(), actorType: 'user' } as OrgAccess;
    const free = { inputPerMTokMicros: 0, outputPerMTokMicros: 0, perImageMicros: 0 };
    const custom = (providerSlug: string, providerModelId: string, extra: Record<string, unknown> = {}) =>
      createCustomModel(access, {
        providerSlug,
        providerModelId,
        name: 'Priced by us',
        type: 'TEXT',
        capabilities: ['chat'],
        pricing: free,
        status: 'Active',
        tags: [],
        aliases: [],
        ...extra,
      });
    // Bedrock runs on the platform's IAM role: Claude 3.5 Sonnet at zero is Claude 3.5 Sonnet at its price.
    const sonnet = await custom('bedrock', 'anthropic.claude-3-5-sonnet-20240620-v1:0');
    expect((await resolveRoute(request(orgId, sonnet.modelId))).candidates).toEqual([
      expect.objectContaining({
        keySource: 'platform',
        pricing: { inputPerMTokMicros: 3_000_000, outputPerMTokMicros: 15_000_000 },
      }),
    ]);
    const image = await custom('local', 'local-image', { type: 'IMAGE', capabilities: ['images'] });
    expect((await resolveRoute(request(orgId, image.modelId, { type: 'IMAGE' }))).candidates[0]!.pricing).toMatchObject({
      perImageMicros: 1_000,
    });

    // Not in the catalogue: the platform has no price for it, so its key does not serve it.
    const unknown = await custom('bedrock', 'amazon.some-model-v9:0');
    await expect(resolveRoute(request(orgId, unknown.modelId))).rejects.toMatchObject({
      status: 422,
      message: expect.stringContaining('your own key for bedrock'),
    });
    const name = virtual();
    await createRule(orgOwnerOf(orgId), ruleInput([unknown.modelId, 'nova-micro'], { conditions: { models: [name] } }));
    const ruled = await resolveRoute(request(orgId, name));
    expect(ruled.candidates.map((c) => c.modelId)).toEqual(['nova-micro']);
    expect(ruled.explanation).toContain(`skipped=${unknown.modelId}:needs-own-key`);

    // HYBRID: the own key at the organization's price (not charged), the platform's key behind it at the platform's.
    const ours = await custom(provider, 'test-chat-1');
    const platformCredential = await createCredential(admin, {
      label: 'Platform',
      providerSlug: provider,
      key: `sk-${randomUUID().replace(/-/g, '')}`,
    });
    try {
      await createCredential(orgOwnerOf(orgId), {
        label: 'Own',
        providerSlug: provider,
        key: `sk-${randomUUID().replace(/-/g, '')}`,
      });
      const plan = await resolveRoute(request(orgId, ours.modelId, { apiKeyStrategy: 'HYBRID' }));
      expect(plan.candidates.map((c) => [c.keySource, c.pricing])).toEqual([
        ['byok', free],
        ['platform', { inputPerMTokMicros: 1_000_000, outputPerMTokMicros: 2_000_000 }],
      ]);
    } finally {
      await deleteCredential(admin, platformCredential.credentialId);
    }
  });
});

describe('routing rules', () => {
  it('try the organization’s rules by priority before the global ones, and skip inactive rules', async () => {
    const orgId = newOrgId();
    const owner = orgOwnerOf(orgId);
    const name = virtual();
    const global = await createRule(admin, ruleInput(['claude-3-haiku'], { priority: 1, conditions: { models: [name] } }));
    const late = await createRule(owner, ruleInput(['nova-lite'], { priority: 50, conditions: { models: [name] } }));
    const early = await createRule(owner, ruleInput(['nova-pro'], { priority: 10, conditions: { models: [name] } }));
    try {
      const first = await resolveRoute(request(orgId, name));
      expect(first).toMatchObject({ ruleId: early.ruleId, candidates: [{ modelId: 'nova-pro' }] });
      expect(first.explanation).toContain(`rule=${early.ruleId} "Test rule" org pick=nova-pro`);

      await patchRule(owner, early.ruleId, { isActive: false });
      expect((await resolveRoute(request(orgId, name))).ruleId).toBe(late.ruleId);
      await deleteRule(owner, late.ruleId);
      const fallback = await resolveRoute(request(orgId, name));
      expect(fallback).toMatchObject({ ruleId: global.ruleId, candidates: [{ modelId: 'claude-3-haiku' }] });
      expect(fallback.explanation).toContain('global');
      // Another organization sees the global rule, never this organization's.
      expect((await resolveRoute(request(newOrgId(), name))).ruleId).toBe(global.ruleId);
    } finally {
      await deleteRule(admin, global.ruleId);
    }
    expect(await statusOf(resolveRoute(request(orgId, name)))).toBe(404);
  });

  it('pick the primary target by weight, then the other targets, then the fallbacks, each model once', async () => {
    const orgId = newOrgId();
    const name = virtual();
    await createRule(orgOwnerOf(orgId), {
      ...ruleInput([], { conditions: { models: [name] }, fallbacks: ['nova-pro', 'nova-micro'] }),
      targets: [
        { modelId: 'nova-micro', weight: 1 },
        { modelId: 'nova-lite', weight: 3 },
      ],
    });
    const low = await resolveRoute(request(orgId, name), fixed(0.1));
    expect(low.candidates.map((c) => c.modelId)).toEqual(['nova-micro', 'nova-lite', 'nova-pro']);
    expect(low.candidates.map((c) => c.reason)).toEqual([
      expect.stringMatching(/weighted 1\/4$/),
      expect.stringMatching(/target 2$/),
      expect.stringMatching(/fallback 1$/),
    ]);
    const high = await resolveRoute(request(orgId, name), fixed(0.5));
    expect(high.candidates.map((c) => c.modelId)).toEqual(['nova-lite', 'nova-micro', 'nova-pro']);
    expect(high.explanation).toMatch(/pick=nova-lite key=platform then=nova-micro,nova-pro$/);

    let lite = 0;
    const runs = 4000;
    for (let i = 0; i < runs; i++) if ((await resolveRoute(request(orgId, name))).candidates[0]!.modelId === 'nova-lite') lite++;
    expect(lite / runs).toBeGreaterThan(0.7);
    expect(lite / runs).toBeLessThan(0.8);
  });

  it('apply only when their plan and tag conditions hold', async () => {
    const orgId = newOrgId();
    const owner = orgOwnerOf(orgId);
    await createRule(owner, ruleInput(['nova-pro'], { priority: 1, conditions: { planIds: ['pro', 'team'] } }));
    await createRule(owner, ruleInput(['nova-lite'], { priority: 2, conditions: { tags: ['batch', 'eu'] } }));
    expect((await resolveRoute(request(orgId, 'fast'))).candidates[0]!.modelId).toBe('nova-micro');
    expect((await resolveRoute(request(orgId, 'fast', { planId: 'pro' }))).candidates[0]!.modelId).toBe('nova-pro');
    expect((await resolveRoute(request(orgId, 'fast', { tags: ['batch'] }))).candidates[0]!.modelId).toBe('nova-micro');
    expect((await resolveRoute(request(orgId, 'fast', { tags: ['eu', 'batch', 'x'] }))).candidates[0]!.modelId).toBe('nova-lite');
    // A rule for another model type never applies.
    expect((await resolveRoute(request(orgId, 'default-image', { type: 'IMAGE', planId: 'pro' }))).ruleId).toBe('default');
  });

  it('of type CODE apply to chat calls, which are TEXT (TEXT and CODE are interchangeable)', async () => {
    const orgId = newOrgId();
    const name = virtual();
    const code = await createRule(
      orgOwnerOf(orgId),
      ruleInput(['nova-lite'], { modelType: 'CODE', conditions: { models: [name] } }),
    );
    expect(await resolveRoute(request(orgId, name))).toMatchObject({
      ruleId: code.ruleId,
      candidates: [{ modelId: 'nova-lite' }],
    });
    expect((await resolveRoute(request(orgId, name, { type: 'CODE' }))).ruleId).toBe(code.ruleId);
  });

  it('leave out models over the cost cap, retired ones and ones without a key, and say so', async () => {
    const orgId = newOrgId();
    const name = virtual();
    const created = await createRule(
      orgOwnerOf(orgId),
      ruleInput(['claude-3-5-sonnet', chatModel, 'nova-micro'], {
        conditions: { models: [name], maxCostPerMTokMicros: 2_000_000 },
      }),
    );
    const plan = await resolveRoute(request(orgId, name));
    expect(plan.candidates.map((c) => c.modelId)).toEqual(['nova-micro']);
    expect(plan.explanation).toContain(`skipped=claude-3-5-sonnet:over-cost,${chatModel}:no-platform-key-for-${provider}`);

    // A rule that offers nothing usable passes the call on.
    await patchRule(orgOwnerOf(orgId), created.ruleId, { targets: [{ modelId: 'claude-3-5-sonnet', weight: 1 }] });
    expect(await statusOf(resolveRoute(request(orgId, name)))).toBe(404);
  });

  it('send each operation only to models that can do it', async () => {
    const orgId = newOrgId();
    const name = virtual();
    await createRule(orgOwnerOf(orgId), ruleInput(['nova-micro', 'titan-embed-text-v2'], { conditions: { models: [name] } }));
    const embed = await resolveRoute(request(orgId, name, { operation: 'embeddings' }));
    expect(embed.candidates.map((c) => c.modelId)).toEqual(['titan-embed-text-v2']);
    const chat = await resolveRoute(request(orgId, name));
    expect(chat.candidates.map((c) => c.modelId)).toEqual(['nova-micro']);
    // Inferred from the requested model: an embeddings-only model means an embeddings call.
    expect((await resolveRoute(request(orgId, 'default-embed'))).candidates[0]!.modelId).toBe('titan-embed-text-v2');
  });

  it('explain themselves in short printable ASCII', async () => {
    const orgId = newOrgId();
    const name = virtual();
    await createRule(
      orgOwnerOf(orgId),
      ruleInput(['nova-micro'], { name: 'Règle d’été ✓ "quoted"', conditions: { models: [name] } }),
    );
    const { explanation } = await resolveRoute(request(orgId, name));
    expect(explanation).toMatch(/^[\x20-\x7e]+$/);
    expect(explanation.length).toBeLessThanOrEqual(400);
    expect(explanation).toContain(`"R?gle d??t? ? 'quoted'"`);
  });
});

describe('whose key pays (apiKeyStrategy)', () => {
  const key = () => `sk-${randomUUID().replace(/-/g, '')}`;

  it('PLATFORM: the platform’s key only; a provider without one cannot be used', async () => {
    const orgId = newOrgId();
    await createCredential(orgOwnerOf(orgId), { label: 'Ours', providerSlug: provider, key: key() });
    expect(await statusOf(resolveRoute(request(orgId, chatModel)))).toBe(422);
    const platformKey = key();
    const credential = await createCredential(admin, { label: 'Platform', providerSlug: provider, key: platformKey });
    try {
      const plan = await resolveRoute(request(orgId, chatModel));
      expect(plan.candidates[0]).toMatchObject({
        keySource: 'platform',
        credentialId: credential.credentialId,
        target: {
          adapter: 'openai',
          providerSlug: provider,
          providerModelId: 'test-chat-1',
          apiKey: platformKey,
          baseUrl: 'https://api.example.com/v1',
        },
      });
    } finally {
      await deleteCredential(admin, credential.credentialId);
    }
  });

  it('BYOK: the user’s own key, else the organization’s; none is a clear 422', async () => {
    const orgId = newOrgId();
    const user = userOwnerOf();
    const byok = { apiKeyStrategy: 'BYOK' as const, userId: user.userId };
    const refused = resolveRoute(request(orgId, chatModel, byok));
    await expect(refused).rejects.toMatchObject({
      status: 422,
      message: expect.stringContaining(`/v1/orgs/${orgId}/provider-credentials`),
    });

    const orgKeyValue = key();
    const orgCredential = await createCredential(orgOwnerOf(orgId), {
      label: 'Org',
      providerSlug: provider,
      key: orgKeyValue,
      baseUrl: 'https://llm.example.org/v1',
      config: { organization: 'acme' },
    });
    const viaOrg = await resolveRoute(request(orgId, chatModel, byok));
    expect(viaOrg.candidates[0]).toMatchObject({
      keySource: 'byok',
      credentialId: orgCredential.credentialId,
      target: { apiKey: orgKeyValue, baseUrl: 'https://llm.example.org/v1', config: { organization: 'acme' } },
    });
    expect(viaOrg.explanation).toContain('key=byok');

    const userKeyValue = key();
    const userCredential = await createCredential(user, { label: 'Mine', providerSlug: provider, key: userKeyValue });
    const viaUser = await resolveRoute(request(orgId, chatModel, byok));
    expect(viaUser.candidates[0]).toMatchObject({ credentialId: userCredential.credentialId, target: { apiKey: userKeyValue } });
    // An API client has no user: the organization's key.
    expect((await resolveRoute(request(orgId, chatModel, { apiKeyStrategy: 'BYOK' }))).candidates[0]!.credentialId).toBe(
      orgCredential.credentialId,
    );
    // A provider that needs no key (Bedrock on the platform's IAM role) is served by the platform.
    expect((await resolveRoute(request(orgId, 'fast', byok))).candidates[0]).toMatchObject({ keySource: 'platform' });
  });

  it('HYBRID: an own key when there is one, else the platform’s', async () => {
    const orgId = newOrgId();
    const hybrid = { apiKeyStrategy: 'HYBRID' as const };
    expect(await statusOf(resolveRoute(request(orgId, chatModel, hybrid)))).toBe(422);
    const platformCredential = await createCredential(admin, { label: 'Platform', providerSlug: provider, key: key() });
    try {
      expect((await resolveRoute(request(orgId, chatModel, hybrid))).candidates[0]).toMatchObject({
        keySource: 'platform',
        credentialId: platformCredential.credentialId,
      });
      const own = await createCredential(orgOwnerOf(orgId), { label: 'Own', providerSlug: provider, key: key() });
      expect((await resolveRoute(request(orgId, chatModel, hybrid))).candidates[0]).toMatchObject({
        keySource: 'byok',
        credentialId: own.credentialId,
      });
    } finally {
      await deleteCredential(admin, platformCredential.credentialId);
    }
  });

  it('list every key a call may fall back to: the user’s then the organization’s (BYOK), then the platform’s (HYBRID)', async () => {
    const orgId = newOrgId();
    const user = userOwnerOf();
    const platformCredential = await createCredential(admin, { label: 'Platform', providerSlug: provider, key: key() });
    try {
      const orgCredential = await createCredential(orgOwnerOf(orgId), { label: 'Org', providerSlug: provider, key: key() });
      const userCredential = await createCredential(user, { label: 'Mine', providerSlug: provider, key: key() });
      const keys = (plan: Awaited<ReturnType<typeof resolveRoute>>) =>
        plan.candidates.map((c) => [c.modelId, c.keySource, c.credentialId]);
      const byok = await resolveRoute(request(orgId, chatModel, { apiKeyStrategy: 'BYOK', userId: user.userId }));
      expect(keys(byok)).toEqual([
        [chatModel, 'byok', userCredential.credentialId],
        [chatModel, 'byok', orgCredential.credentialId],
      ]);
      expect(byok.explanation).toContain(`pick=${chatModel} key=byok then=${chatModel}@byok`);
      const hybrid = await resolveRoute(request(orgId, chatModel, { apiKeyStrategy: 'HYBRID' }));
      expect(keys(hybrid)).toEqual([
        [chatModel, 'byok', orgCredential.credentialId],
        [chatModel, 'platform', platformCredential.credentialId],
      ]);
      expect(hybrid.explanation).toContain(`pick=${chatModel} key=byok then=${chatModel}@platform`);
      // Under a rule, each model's keys come together, before the next model.
      const name = virtual();
      await createRule(orgOwnerOf(orgId), ruleInput([chatModel], { conditions: { models: [name] }, fallbacks: ['nova-micro'] }));
      const ruled = await resolveRoute(request(orgId, name, { apiKeyStrategy: 'HYBRID' }));
      expect(ruled.candidates.map((c) => [c.modelId, c.keySource])).toEqual([
        [chatModel, 'byok'],
        [chatModel, 'platform'],
        ['nova-micro', 'platform'],
      ]);
    } finally {
      await deleteCredential(admin, platformCredential.credentialId);
    }
  });

  it('use the default key of the provider, skip inactive keys, and serve a rotated key at once', async () => {
    const orgId = newOrgId();
    const owner = orgOwnerOf(orgId);
    const byok = { apiKeyStrategy: 'BYOK' as const };
    const first = await createCredential(owner, { label: 'First', providerSlug: provider, key: key() });
    const second = await createCredential(owner, { label: 'Second', providerSlug: provider, key: key() });
    expect([first.isDefault, second.isDefault]).toEqual([true, false]);
    expect((await resolveRoute(request(orgId, chatModel, byok))).candidates[0]!.credentialId).toBe(first.credentialId);
    await patchCredential(owner, first.credentialId, { isActive: false });
    expect((await resolveRoute(request(orgId, chatModel, byok))).candidates[0]!.credentialId).toBe(second.credentialId);
    const rotated = key();
    await patchCredential(owner, second.credentialId, { key: rotated });
    expect((await resolveRoute(request(orgId, chatModel, byok))).candidates[0]!.target.apiKey).toBe(rotated);
  });

  it('count a key-less credential as an own key only when it sends the call to the organization’s own server', async () => {
    const orgId = newOrgId();
    const owner = orgOwnerOf(orgId);
    // Bedrock without a key runs on the platform's IAM role: the platform's call, whatever the strategy.
    const bare = await createCredential(owner, { label: 'No key', providerSlug: 'bedrock', config: { region: 'eu-west-1' } });
    expect(bare.hasKey).toBe(false);
    for (const apiKeyStrategy of ['BYOK', 'HYBRID'] as const) {
      const plan = await resolveRoute(request(orgId, 'nova-micro', { apiKeyStrategy }));
      expect(plan.candidates).toHaveLength(1);
      expect(plan.candidates[0]).toMatchObject({ keySource: 'platform', target: { adapter: 'bedrock' } });
      expect(plan.candidates[0]!.credentialId).toBeUndefined();
      expect(plan.explanation).toContain('key=platform');
    }
    // A Bedrock API key of the organization's is its own, even beside a key-less default.
    const keyed = await createCredential(owner, { label: 'Bedrock API key', providerSlug: 'bedrock', key: key() });
    expect((await resolveRoute(request(orgId, 'nova-micro', { apiKeyStrategy: 'BYOK' }))).candidates[0]).toMatchObject({
      keySource: 'byok',
      credentialId: keyed.credentialId,
    });

    // A provider that takes no key, served by the platform's server: the organization's own server makes the key its own.
    const keyless = uniqueSlug('keyless');
    const model = uniqueSlug('keyless-chat');
    await saveProvider(admin, keyless, {
      displayName: 'Keyless',
      adapter: 'openai',
      requiresApiKey: false,
      requiresBaseUrl: false,
      supportsStreaming: true,
      capabilities: ['chat'],
      configSchema: { type: 'object' },
      defaultBaseUrl: 'https://llm.platform.example/v1',
      group: { name: 'Test' },
      status: 'Active',
    });
    await saveCatalogueModel(admin, model, {
      kind: 'external',
      providerSlug: keyless,
      providerModelId: 'keyless-1',
      name: 'Keyless chat',
      type: 'TEXT',
      capabilities: ['chat'],
      pricing: { inputPerMTokMicros: 1_000_000, outputPerMTokMicros: 2_000_000 },
      status: 'Active',
      tags: [],
      aliases: [],
    });
    const hybrid = { apiKeyStrategy: 'HYBRID' as const };
    const other = await createCredential(owner, { label: 'Default server', providerSlug: keyless });
    expect((await resolveRoute(request(orgId, model, hybrid))).candidates.map((c) => c.keySource)).toEqual(['platform']);
    // The platform's server spelled otherwise is still the platform's.
    await patchCredential(owner, other.credentialId, { baseUrl: 'https://LLM.platform.example/v1/' });
    expect((await resolveRoute(request(orgId, model, hybrid))).candidates.map((c) => c.keySource)).toEqual(['platform']);
    await patchCredential(owner, other.credentialId, { baseUrl: 'https://llm.example.org/v1' });
    const own = await resolveRoute(request(orgId, model, hybrid));
    expect(own.candidates.map((c) => [c.keySource, c.target.baseUrl])).toEqual([
      ['byok', 'https://llm.example.org/v1'],
      ['platform', 'https://llm.platform.example/v1'],
    ]);
  });

  it('read the organization’s strategy when the caller does not pass it, and keep it a while', async () => {
    const orgId = newOrgId();
    await db.organization
      .create({
        orgId,
        name: 'Strategy',
        slug: uniqueSlug('strategy'),
        orgType: 'TEAM',
        apiKeyStrategy: 'BYOK',
        ownerId: randomUUID(),
        createdBy: 'test',
      })
      .go();
    const { apiKeyStrategy: _none, ...withoutStrategy } = request(orgId, chatModel);
    expect(await statusOf(resolveRoute(withoutStrategy))).toBe(422); // BYOK without a key
    await createCredential(orgOwnerOf(orgId), { label: 'Own', providerSlug: provider, key: key() });
    expect((await resolveRoute(withoutStrategy)).candidates[0]!.keySource).toBe('byok');
    expect(await statusOf(resolveRoute({ ...withoutStrategy, orgId: newOrgId() }))).toBe(404);
  });
});

describe('the hot path', () => {
  it('makes no DynamoDB request in steady state, at most four when cold, and reads again after the TTL', async () => {
    const orgId = newOrgId();
    await db.organization
      .create({
        orgId,
        name: 'Hot',
        slug: uniqueSlug('hot'),
        orgType: 'TEAM',
        apiKeyStrategy: 'HYBRID',
        ownerId: randomUUID(),
        createdBy: 'test',
      })
      .go();
    const call = { ...request(orgId, 'fast', { userId: randomUUID() }), apiKeyStrategy: undefined };
    forgetSnapshot();
    const cold = await countRequests(() => resolveRoute(call));
    expect(cold.requests.length).toBeGreaterThan(0);
    expect(cold.requests.length).toBeLessThanOrEqual(4);
    expect(cold.requests.every((r) => r === 'Query' || r === 'GetItem')).toBe(true);

    const warm = await countRequests(async () => {
      for (let i = 0; i < 100; i++) await resolveRoute(call);
    });
    expect(warm.requests).toEqual([]);

    const timings: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const start = performance.now();
      await resolveRoute(call);
      timings.push(performance.now() - start);
    }
    timings.sort((a, b) => a - b);
    const p50 = timings[1000]!;
    const p99 = timings[1980]!;
    console.log(`resolveRoute, warm: p50 ${(p50 * 1000).toFixed(0)} µs, p99 ${(p99 * 1000).toFixed(0)} µs`);
    expect(p50).toBeLessThan(1);

    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + Math.max(OWNER_TTL_MS, PLATFORM_TTL_MS) + 1);
    const expired = await countRequests(() => resolveRoute(call));
    expect(expired.requests.length).toBeGreaterThan(0);
  });

  it('sees another instance’s change only after the TTL, and its own at once', async () => {
    const orgId = newOrgId();
    const name = virtual();
    expect(await statusOf(resolveRoute(request(orgId, name)))).toBe(404);
    // Written as another Lambda instance would: this process's snapshot is not told.
    const ruleId = `rtr_${randomUUID().replace(/-/g, '').slice(0, 26)}`;
    await hubDb.routingRule
      .create({
        ...ruleInput(['nova-micro'], { conditions: { models: [name] } }),
        owner: orgKey(orgId),
        ruleId,
        createdBy: 'elsewhere',
      })
      .go();
    expect(await statusOf(resolveRoute(request(orgId, name)))).toBe(404);
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + OWNER_TTL_MS + 1);
    expect((await resolveRoute(request(orgId, name))).ruleId).toBe(ruleId);
    vi.restoreAllMocks();
    // A change through the domain in this process invalidates the snapshot immediately.
    await deleteRule(orgOwnerOf(orgId), ruleId);
    expect(await statusOf(resolveRoute(request(orgId, name)))).toBe(404);
  });
});
