import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, signUpUser, type SignedInUser } from '../helpers/api.ts';
import { FAKE_TEXT, times } from '../helpers/fake-provider.ts';
import { credits, gateway, readStream, stream, usageOf } from '../helpers/gateway.ts';
import { useFakeProvider } from '../helpers/use-fake-provider.ts';

/**
 * Bring your own key through the gateway, end to end over HTTP: an organization whose
 * apiKeyStrategy is BYOK calls models through its own provider keys, which point at the fake
 * provider on loopback. A failing key's model falls back to another key's model and `x-route`
 * says so; the call is logged but charged no credits; streams really stream; a key's daily quota
 * refuses the call past it in OpenAI's error shape.
 */
const fake = useFakeProvider();
const messages = [{ role: 'user', content: 'Which way to the lighthouse?' }];
const secret = () => `sk-byok-${randomUUID().replace(/-/g, '')}`;

let owner: SignedInUser;

beforeAll(async () => {
  owner = await signUpUser('byok');
});

/** A team organization that pays its providers with its own keys. */
async function byokOrg() {
  const slug = `byok-${randomUUID().slice(0, 8)}`;
  const created = await api('POST', '/v1/orgs', {
    token: owner.accessToken,
    body: { name: `BYOK ${slug}`, slug, apiKeyStrategy: 'BYOK' },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.orgId as string;
}

/** An organization's key for a provider, pointing at the fake provider in that provider's dialect. */
async function providerKey(orgId: string, providerSlug: 'openai' | 'anthropic', extra: Record<string, unknown> = {}) {
  const key = secret();
  const baseUrl = providerSlug === 'openai' ? fake().baseUrl('openai') : fake().baseUrl('anthropic');
  const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
    token: owner.accessToken,
    body: { label: `${providerSlug} key`, providerSlug, key, baseUrl, ...extra },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return { key, credentialId: created.body.credentialId as string };
}

const asOrg = (orgId: string) => ({ 'openai-organization': orgId });

describe('an organization with its own keys (BYOK)', () => {
  it('falls back from a failing key’s model to another key’s model, explains it in x-route, logs it and charges nothing', async () => {
    const orgId = await byokOrg();
    const openai = await providerKey(orgId, 'openai');
    const anthropic = await providerKey(orgId, 'anthropic');
    const rule = await api('POST', `/v1/orgs/${orgId}/routing-rules`, {
      token: owner.accessToken,
      body: {
        name: 'Own keys, with a fallback',
        priority: 1,
        modelType: 'TEXT',
        conditions: { models: ['gpt-4o-mini'] },
        targets: [{ modelId: 'gpt-4o-mini', weight: 1 }],
        fallbacks: ['claude-3-5-haiku'],
      },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    fake().script('gpt-4o-mini', times(3, { kind: 'fail', status: 500 }));
    const before = await credits(owner, orgId);

    const res = await gateway(
      '/chat/completions',
      { token: owner.accessToken },
      { model: 'gpt-4o-mini', messages },
      asOrg(orgId),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ model: 'claude-3-5-haiku', choices: [{ message: { content: FAKE_TEXT } }] });

    const route = res.headers.get('x-route')!;
    expect(route).toContain(`${rule.body.ruleId};`);
    expect(route).toContain('pick=gpt-4o-mini key=byok then=claude-3-5-haiku');
    expect(route).toMatch(/1:gpt-4o-mini server\/500 \d+ms/);
    expect(route).toMatch(/2:claude-3-5-haiku ok \d+ms$/);

    // Each model was called through its own key, in its own dialect.
    const failed = fake().requests.filter((r) => r.model === 'gpt-4o-mini');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    for (const r of failed) expect(r.headers.authorization).toBe(`Bearer ${openai.key}`);
    const served = fake().requests.filter((r) => r.model === 'claude-3-5-haiku-latest');
    expect(served).toHaveLength(1);
    expect(served[0]).toMatchObject({ dialect: 'anthropic', headers: { 'x-api-key': anthropic.key } });

    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({
      model: 'claude-3-5-haiku',
      provider: 'anthropic',
      status: 'success',
      inputTokens: res.body.usage.prompt_tokens,
      outputTokens: res.body.usage.completion_tokens,
      credits: 0,
      metadata: { keySource: 'byok', ruleId: rule.body.ruleId, route: expect.stringContaining('server/500') },
    });
    // The cost is known (for the organization's own accounting), but no credit moved.
    expect(log!.totalCostMicros).toBeGreaterThan(0);
    expect(await credits(owner, orgId)).toEqual(before);
  });

  it('streams server-sent events through its own key, incrementally, with the usage in the last chunk', async () => {
    const orgId = await byokOrg();
    const { key } = await providerKey(orgId, 'openai');
    fake().script('gpt-4o', { kind: 'ok', chunkDelayMs: 30 });
    const before = await credits(owner, orgId);

    const response = await stream(owner.accessToken, { model: 'gpt-4o', messages, stream: true }, undefined, asOrg(orgId));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    expect(response.headers.get('x-route')).toContain('key=byok');
    const events = await readStream(response);
    expect(events.at(-1)!.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(FAKE_TEXT);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } });
    // The words came as the provider sent them (30 ms apart), not all at once at the end.
    const contents = events.filter((e) => /"content":"[^"]/.test(e.data));
    expect(contents).toHaveLength(5);
    expect(contents.at(-1)!.at - contents[0]!.at).toBeGreaterThan(60);

    const [call] = fake().requests;
    expect(call).toMatchObject({ operation: 'stream', model: 'gpt-4o', body: { stream_options: { include_usage: true } } });
    expect(call!.headers.authorization).toBe(`Bearer ${key}`);
    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({ outputTokens: 5, credits: 0, metadata: { stream: true, keySource: 'byok' } });
    expect(await credits(owner, orgId)).toEqual(before);
  });

  it('refuses a call past its key’s daily quota with a 429 in OpenAI’s shape; testing the key uses none of it', async () => {
    const orgId = await byokOrg();
    const { credentialId } = await providerKey(orgId, 'openai', { dailyQuota: 1 });
    const tested = await api('POST', `/v1/orgs/${orgId}/provider-credentials/${credentialId}/test`, { token: owner.accessToken });
    expect(tested.body).toMatchObject({ ok: true });

    const call = () =>
      gateway('/chat/completions', { token: owner.accessToken }, { model: 'gpt-4o-mini', messages }, asOrg(orgId));
    expect((await call()).status).toBe(200);
    const refused = await call();
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'rate_limit_error', message: expect.stringContaining('quota') });
    // Retry when the day's quota resets, within a day.
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    expect(refused.headers.get('x-route')).toMatch(/1:gpt-4o-mini throttled \d+ms/);
    // The test and the one admitted call reached the provider; the refused call did not.
    expect(fake().received()).toBe(2);
  });
});
