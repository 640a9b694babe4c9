import { describe, expect, it } from 'vitest';
import { checkSchema } from '../shared/json-schema.ts';
import { configSchemas, DEFAULT_CONFIGS, familyOf, providerOfConfigKey } from './admin-config.ts';
import { DEFAULT_MODELS } from './default-models.ts';
import { DEFAULT_PROVIDERS } from './default-providers.ts';
import { assertCatalogueFits, MAX_CATALOGUE_BYTES } from './providers.ts';
import { alias, catalogueModelId, providerSlug } from './schemas/common.ts';

describe('the built-in catalogue', () => {
  it('has providers whose slugs and config schemas the admin API would accept', () => {
    for (const [slug, provider] of Object.entries(DEFAULT_PROVIDERS)) {
      expect(provider.slug).toBe(slug);
      expect(providerSlug.safeParse(slug).success).toBe(true);
      expect(checkSchema(provider.configSchema), slug).toEqual([]);
    }
  });

  it('has models on known providers, with valid ids, aliases unique across the catalogue, and a price', () => {
    const names = new Map<string, string>();
    for (const [modelId, model] of Object.entries(DEFAULT_MODELS)) {
      expect(model.modelId).toBe(modelId);
      expect(catalogueModelId.safeParse(modelId).success, modelId).toBe(true);
      expect(DEFAULT_PROVIDERS[model.providerSlug], modelId).toBeDefined();
      for (const name of [modelId, ...model.aliases]) {
        if (name !== modelId) expect(alias.safeParse(name).success, name).toBe(true);
        expect(names.get(name), `${name} names two models`).toBeUndefined();
        names.set(name, modelId);
      }
      const { inputPerMTokMicros, outputPerMTokMicros, perImageMicros } = model.pricing;
      expect(inputPerMTokMicros + outputPerMTokMicros + (perImageMicros ?? 0), modelId).toBeGreaterThan(0);
      expect(model.capabilities.includes('images')).toBe(model.type === 'IMAGE');
      for (const capability of model.capabilities)
        expect(DEFAULT_PROVIDERS[model.providerSlug]!.capabilities, `${modelId} ${capability}`).toContain(capability);
    }
    expect(names.get('default-chat')).toBe('claude-3-haiku');
    expect(names.get('fast')).toBe('nova-micro');
    expect(names.get('smart')).toBe('claude-3-5-sonnet');
  });
});

describe('the stored provider catalogue (one DynamoDB item)', () => {
  const provider = (slug: string, padding: number) => ({ ...DEFAULT_PROVIDERS.openai!, slug, description: 'x'.repeat(padding) });
  const catalogueOf = (count: number, padding: number) =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, provider(`p${i}`, padding)]));

  it('refuses a change that grows it past its bound (a 409 before DynamoDB would refuse the item with a 500)', () => {
    const full = catalogueOf(Math.ceil(MAX_CATALOGUE_BYTES / 5_000), 5_000);
    const before = Object.fromEntries(Object.entries(full).slice(1));
    expect(() => assertCatalogueFits(full, before)).toThrow(expect.objectContaining({ status: 409 }));
  });

  it('lets a change that shrinks or keeps an oversized one pass, and any change of a small one', () => {
    const full = catalogueOf(Math.ceil(MAX_CATALOGUE_BYTES / 5_000), 5_000);
    const smaller = Object.fromEntries(Object.entries(full).slice(1));
    expect(() => assertCatalogueFits(smaller, full)).not.toThrow();
    expect(() => assertCatalogueFits(full, full)).not.toThrow();
    expect(() => assertCatalogueFits(catalogueOf(40, 1_000), catalogueOf(39, 1_000))).not.toThrow();
  });

  it('holds every built-in provider, each within the bound an admin’s config schema has (4 KiB)', () => {
    for (const [slug, p] of Object.entries(DEFAULT_PROVIDERS))
      expect(JSON.stringify(p.configSchema).length, slug).toBeLessThanOrEqual(4_096);
    expect(() => assertCatalogueFits({ ...DEFAULT_PROVIDERS }, {})).not.toThrow();
  });
});

describe('admin config keys', () => {
  it('name their family', () => {
    expect(familyOf('routing_agent')).toBe('routing_agent');
    expect(familyOf('chat_agent_google')).toBe('chat_agent');
    expect(familyOf('artifact_agent_openai')).toBe('artifact_agent');
    expect(familyOf('git_mcp_agent_anthropic')).toBe('git_mcp_agent');
    // Provider slugs may hold dashes.
    expect(familyOf('chat_agent_my-llm')).toBe('chat_agent');
    expect(providerOfConfigKey('git_mcp_agent_my-llm')).toBe('my-llm');
    expect(providerOfConfigKey('routing_agent')).toBeUndefined();
    for (const bad of [
      'chat_agent',
      'chat_agent_',
      'chat_agent_Google',
      'routing_agent_x',
      'billing_agent_google',
      'git_mcp_agent_a_b',
    ])
      expect(() => familyOf(bad), bad).toThrow();
  });

  it('refuse a routing_agent whose default agent is not among its agents', () => {
    const routing = { ...DEFAULT_CONFIGS.routing_agent, agents: ['chat'], defaultAgent: 'git_mcp' };
    const parsed = configSchemas.routing_agent.safeParse(routing);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['defaultAgent']);
    expect(configSchemas.routing_agent.safeParse({ ...routing, defaultAgent: 'chat' }).success).toBe(true);
  });

  it('have defaults their own schema accepts', () => {
    for (const [key, data] of Object.entries(DEFAULT_CONFIGS))
      expect(configSchemas[familyOf(key)].safeParse(data).success, key).toBe(true);
  });
});
