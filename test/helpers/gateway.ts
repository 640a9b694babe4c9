import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { api, asPlatformAdmin, baseUrl, type SignedInUser } from './api.ts';

/**
 * Calling the OpenAI-compatible gateway in end-to-end tests: requests, streams read event by
 * event, and what a call leaves behind (usage logs, credits), which metering writes after the answer.
 */
export async function gateway(
  path: string,
  auth: { token?: string; apiKey?: string },
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return api(body === undefined ? 'GET' : 'POST', `/openai/v1${path}`, {
    ...auth,
    ...(body !== undefined ? { body } : {}),
    headers,
  });
}

/** A streamed chat completion (`fetch`, so the body can be read as it arrives). */
export const stream = (auth: string, body: unknown, signal?: AbortSignal, headers: Record<string, string> = {}) =>
  fetch(`${baseUrl()}/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal,
  });

/** Reads a server-sent-event stream, noting when each event arrived. */
export async function readStream(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: Array<{ at: number; data: string }> = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (frame.startsWith('data: ')) events.push({ at: performance.now(), data: frame.slice(6) });
    }
  }
  return events;
}

/** Metering runs after the answer: wait until the usage log of the organization has `count` entries. */
export async function usageOf(owner: SignedInUser, orgId: string, count: number) {
  for (let i = 0; i < 100; i++) {
    const res = await api('GET', `/v1/orgs/${orgId}/usage`, { token: owner.accessToken });
    if (res.body.items.length >= count) return res.body.items as Array<Record<string, any>>;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`No ${count} usage logs in ${orgId}`);
}

export const credits = async (user: SignedInUser, orgId: string) =>
  (await api('GET', `/v1/orgs/${orgId}/credits`, { token: user.accessToken })).body as { available: number; reserved: number };

/** An API client key of the organization with the given scopes (`gateway:invoke` to call models). */
export async function keyFor(owner: SignedInUser, orgId: string, scopes = ['gateway:invoke']) {
  const created = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
    token: owner.accessToken,
    body: { name: 'gateway', scopes },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.key as string;
}

/**
 * A provider of the platform at a fake provider's OpenAI dialect (`baseUrl`; or `adapter`'s, with
 * the fake provider's base URL of that dialect) and a catalogue model of it, made by a platform
 * admin. With `platformKey`, the provider needs a key and the
 * platform has that one, with `keyConfig` as its config (the provider's config schema then
 * offers `timeoutMs`, as the built-in providers' do) and `keyQuotas` as its quotas. The
 * platform's default keys are one item, under optimistic locking, which other suites' admins
 * change at the same time: a 409 "changed meanwhile; retry" is retried.
 */
export async function fakePlatformModel(
  admin: SignedInUser,
  baseUrl: string,
  options: {
    adapter?: 'openai' | 'anthropic';
    platformKey?: string;
    keyConfig?: Record<string, unknown>;
    keyQuotas?: { dailyQuota?: number; monthlyQuota?: number };
  } = {},
) {
  const suffix = randomUUID().slice(0, 8);
  const slug = `fake-${suffix}`;
  const provider = await asPlatformAdmin(admin, 'PUT', `/v1/admin/providers/${slug}`, {
    displayName: `Fake ${suffix}`,
    adapter: options.adapter ?? 'openai',
    requiresApiKey: options.platformKey !== undefined,
    defaultBaseUrl: baseUrl,
    capabilities: ['chat', 'stream'],
    ...(options.keyConfig
      ? {
          configSchema: {
            type: 'object',
            properties: { timeoutMs: { type: 'integer', minimum: 1000 } },
            additionalProperties: false,
          },
        }
      : {}),
    group: { name: 'Fake' },
  });
  expect(provider.status, JSON.stringify(provider.body)).toBeLessThan(300);
  if (options.platformKey) {
    const credential = await asPlatformAdmin(admin, 'POST', '/v1/admin/provider-credentials', {
      label: 'Platform',
      providerSlug: slug,
      key: options.platformKey,
      baseUrl,
      ...(options.keyConfig ? { config: options.keyConfig } : {}),
      ...options.keyQuotas,
    });
    expect(credential.status, JSON.stringify(credential.body)).toBe(201);
  }
  const modelId = `fake-model-${suffix}`;
  const providerModelId = `fake-upstream-${suffix}`;
  const model = await api('PUT', `/v1/admin/models/${modelId}`, {
    token: admin.accessToken,
    body: {
      providerSlug: slug,
      providerModelId,
      name: `Fake ${suffix}`,
      type: 'TEXT',
      pricing: { inputPerMTokMicros: 1_000_000, outputPerMTokMicros: 2_000_000 },
    },
  });
  expect(model.status, JSON.stringify(model.body)).toBeLessThan(300);
  return { slug, modelId, providerModelId };
}

/**
 * An organization's routing rule for the TEXT calls of `model`: that model first, then
 * `fallback`. Answers the created rule.
 */
export async function fallbackRule(owner: SignedInUser, orgId: string, name: string, model: string, fallback: string) {
  const rule = await api('POST', `/v1/orgs/${orgId}/routing-rules`, {
    token: owner.accessToken,
    body: {
      name,
      priority: 1,
      modelType: 'TEXT',
      conditions: { models: [model] },
      targets: [{ modelId: model, weight: 1 }],
      fallbacks: [fallback],
    },
  });
  expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  return rule.body as { ruleId: string };
}

/** A team organization of `owner` that pays its providers with its own keys (or, HYBRID, with them first; PLATFORM, never). */
export async function strategyOrg(owner: SignedInUser, apiKeyStrategy: 'BYOK' | 'HYBRID' | 'PLATFORM' = 'BYOK') {
  const slug = `byok-${randomUUID().slice(0, 8)}`;
  const created = await api('POST', '/v1/orgs', {
    token: owner.accessToken,
    body: { name: `BYOK ${slug}`, slug, apiKeyStrategy },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.orgId as string;
}
