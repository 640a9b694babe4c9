import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { api, baseUrl, clearOfPeriodEnd, signUpPlatformAdmin, signUpUser, type SignedInUser } from '../helpers/api.ts';
import { FAKE_TEXT, startFakeProvider, times } from '../helpers/fake-provider.ts';
import {
  credits,
  fakePlatformModel,
  fallbackRule,
  gateway,
  readStream,
  strategyOrg,
  stream,
  usageOf,
} from '../helpers/gateway.ts';
import { useFakeProvider } from '../helpers/use-fake-provider.ts';

/**
 * Bring your own key through the gateway, end to end over HTTP: an organization whose
 * apiKeyStrategy is BYOK calls models through its own provider keys, which point at the fake
 * provider on loopback. A failing key's model falls back to another key's model and `x-route`
 * says so; the call is logged but charged no credits; streams really stream; a key's daily quota
 * refuses the call past it in OpenAI's error shape; an image's `quality` and `style` reach the
 * provider. Under HYBRID a refused or spent own key falls
 * back to the platform's key, which is charged. Clients that leave (a stream they stop reading,
 * or a call they cancel) are metered once, as the client leaving, not as the model's failure.
 */
const fake = useFakeProvider();
const messages = [{ role: 'user', content: 'Which way to the lighthouse?' }];
const secret = () => `sk-byok-${randomUUID().replace(/-/g, '')}`;

let owner: SignedInUser;
let admin: SignedInUser;

beforeAll(async () => {
  [owner, admin] = await Promise.all([signUpUser('byok'), signUpPlatformAdmin('byokadmin')]);
});

/** A team organization of the suite's owner that pays its providers with its own keys (`strategyOrg`). */
const byokOrg = (apiKeyStrategy?: 'BYOK' | 'HYBRID' | 'PLATFORM') => strategyOrg(owner, apiKeyStrategy);

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

/**
 * For a test whose calls must fall in one UTC day (a key's daily quota) or hour (model metrics
 * read before any roll-up count the current hour's calls only): waits out the end of the hour
 * (a day ends with one) when it is close.
 */
const oneHour = () => clearOfPeriodEnd(3_600_000, 30_000);

describe('an organization with its own keys (BYOK)', () => {
  it('falls back from a failing key’s model to another key’s model, explains it in x-route, logs it and charges nothing', async () => {
    const orgId = await byokOrg();
    const openai = await providerKey(orgId, 'openai');
    const anthropic = await providerKey(orgId, 'anthropic');
    const rule = await fallbackRule(owner, orgId, 'Own keys, with a fallback', 'gpt-4o-mini', 'claude-3-5-haiku');
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
    expect(route).toContain(`${rule.ruleId};`);
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
      metadata: { keySource: 'byok', ruleId: rule.ruleId, route: expect.stringContaining('server/500') },
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
    await oneHour();
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
  }, 60_000);
});

/** A provider of the platform at the fake provider and a model of it (with `platformKey`, paid with that key). */
const platformModel = (platformKey?: string) => fakePlatformModel(admin, fake().baseUrl('openai'), { platformKey });

/** A key of the organization's own for the provider, served by the fake provider; answers the key. */
async function ownKey(orgId: string, slug: string, extra: Record<string, unknown> = {}) {
  const key = secret();
  const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
    token: owner.accessToken,
    body: { label: 'Own', providerSlug: slug, key, baseUrl: fake().baseUrl('openai'), ...extra },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return key;
}

describe('images through an own key at an OpenAI-compatible server', () => {
  it('are made with the `quality` and `style` asked for, sent on as OpenAI takes them; a value OpenAI has not is a 400 naming it', async () => {
    const orgId = await byokOrg();
    await providerKey(orgId, 'openai');
    const made = await api('POST', `/v1/orgs/${orgId}/models`, {
      token: owner.accessToken,
      body: {
        providerSlug: 'openai',
        providerModelId: 'dall-e-3',
        name: 'DALL-E 3 (own key)',
        type: 'IMAGE',
        capabilities: ['images'],
        pricing: { inputPerMTokMicros: 0, outputPerMTokMicros: 0, perImageMicros: 40_000 },
      },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const draw = (options: Record<string, unknown>) =>
      gateway(
        '/images/generations',
        { token: owner.accessToken },
        { model: made.body.modelId, prompt: 'a lighthouse at night', size: '1024x1024', ...options },
        asOrg(orgId),
      );

    const res = await draw({ quality: 'hd', style: 'natural' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(fake().requests.map((r) => r.body)).toEqual([
      expect.objectContaining({ model: 'dall-e-3', n: 1, size: '1024x1024', quality: 'hd', style: 'natural' }),
    ]);
    for (const [param, value] of [
      ['quality', 'ultra'],
      ['style', 'bold'],
    ] as const) {
      const refused = await draw({ [param]: value });
      expect(refused.status, `${param} ${value}`).toBe(400);
      expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
    expect(fake().requests).toHaveLength(1);
  });
});

describe('an organization with its own keys and the platform’s behind them (HYBRID)', () => {
  it('falls back to the platform’s key when the provider refuses its own, says so, and charges that call', async () => {
    const platformKey = secret();
    const { slug, modelId, providerModelId } = await platformModel(platformKey);
    const orgId = await byokOrg('HYBRID');
    const own = await ownKey(orgId, slug);
    fake().script(providerModelId, { kind: 'fail', status: 401, message: 'Incorrect API key provided' });
    const before = await credits(owner, orgId);

    const res = await gateway('/chat/completions', { token: owner.accessToken }, { model: modelId, messages }, asOrg(orgId));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(fake().requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${own}`, `Bearer ${platformKey}`]);
    const route = res.headers.get('x-route')!;
    expect(route).toContain(`pick=${modelId} key=byok then=${modelId}@platform`);
    expect(route).toMatch(new RegExp(`1:${modelId} auth/401 \\d+ms, 2:${modelId} ok \\d+ms$`));

    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({ model: modelId, status: 'success', metadata: { keySource: 'platform' } });
    expect(log!.credits).toBeGreaterThan(0);
    expect((await credits(owner, orgId)).available).toBe(before.available - log!.credits);
  });

  it('serves the call with its own key alone when its balance cannot cover the platform’s behind it', async () => {
    const { slug, modelId } = await platformModel(secret());
    const orgId = await byokOrg('HYBRID');
    const own = await ownKey(orgId, slug);
    const { available } = await credits(owner, orgId);
    const emptied = await api('POST', `/v1/admin/orgs/${orgId}/credits/adjustments`, {
      token: admin.accessToken,
      body: { amount: -available, reason: 'test: nothing left' },
    });
    expect(emptied.status, JSON.stringify(emptied.body)).toBe(201);

    const res = await gateway('/chat/completions', { token: owner.accessToken }, { model: modelId, messages }, asOrg(orgId));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get('x-route')).toContain('no-platform-backup=balance');
    expect(fake().requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${own}`]);
    expect(await credits(owner, orgId)).toMatchObject({ available: 0, reserved: 0 });
  });

  it('skips its own key once its quota is spent, for the platform’s', async () => {
    await oneHour();
    const platformKey = secret();
    const { slug, modelId } = await platformModel(platformKey);
    const orgId = await byokOrg('HYBRID');
    const own = await ownKey(orgId, slug, { dailyQuota: 1 });
    const call = () => gateway('/chat/completions', { token: owner.accessToken }, { model: modelId, messages }, asOrg(orgId));
    expect((await call()).status).toBe(200);
    const second = await call();
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.headers.get('x-route')).toMatch(new RegExp(`1:${modelId} throttled \\d+ms, 2:${modelId} ok \\d+ms$`));
    expect(fake().requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${own}`, `Bearer ${platformKey}`]);
    const logs = await usageOf(owner, orgId, 2);
    expect(logs.map((l) => [l.metadata.keySource, l.credits > 0]).sort()).toEqual([
      ['byok', false],
      ['platform', true],
    ]);
  }, 60_000);
});

describe('a credential without a key, of a provider that needs none', () => {
  const call = (orgId: string, model: string) =>
    gateway('/chat/completions', { token: owner.accessToken }, { model, messages }, asOrg(orgId));

  it('is no own key when the platform runs the call: under HYBRID the local model is charged as under PLATFORM', async () => {
    const paying = await byokOrg('PLATFORM');
    expect((await call(paying, 'local-chat')).status).toBe(200);
    const [paid] = await usageOf(owner, paying, 1);
    expect(paid!.credits).toBeGreaterThan(0);

    const orgId = await byokOrg('HYBRID');
    const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
      token: owner.accessToken,
      body: { label: 'No key', providerSlug: 'local' },
    });
    expect(created.body).toMatchObject({ hasKey: false });
    const before = await credits(owner, orgId);
    const res = await call(orgId, 'local-chat');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get('x-route')).toContain('key=platform');
    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({ credits: paid!.credits, metadata: { keySource: 'platform' } });
    expect((await credits(owner, orgId)).available).toBe(before.available - paid!.credits);
  });

  it('is an own key only at the organization’s own server: BYOK through the platform’s server is charged', async () => {
    const { slug, modelId, providerModelId } = await platformModel(); // no key needed, the fake provider is the platform's server
    const orgId = await byokOrg('BYOK');
    const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
      token: owner.accessToken,
      body: { label: 'No key', providerSlug: slug },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const charged = await call(orgId, modelId);
    expect(charged.status, JSON.stringify(charged.body)).toBe(200);
    expect(charged.headers.get('x-route')).toContain('key=platform');
    const [platformLog] = await usageOf(owner, orgId, 1);
    expect(platformLog).toMatchObject({ metadata: { keySource: 'platform' } });
    expect(platformLog!.credits).toBeGreaterThan(0);

    const ownServer = await startFakeProvider();
    try {
      const moved = await api('PATCH', `/v1/orgs/${orgId}/provider-credentials/${created.body.credentialId}`, {
        token: owner.accessToken,
        body: { baseUrl: ownServer.baseUrl('openai') },
      });
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      const before = await credits(owner, orgId);
      const own = await call(orgId, modelId);
      expect(own.status, JSON.stringify(own.body)).toBe(200);
      expect(own.headers.get('x-route')).toContain('key=byok');
      expect(ownServer.requests.map((r) => r.model)).toEqual([providerModelId]);
      const [ownLog] = await usageOf(owner, orgId, 2);
      expect(ownLog).toMatchObject({ credits: 0, metadata: { keySource: 'byok' } });
      expect(await credits(owner, orgId)).toEqual(before);
    } finally {
      await ownServer.close();
    }
  });
});

describe('a key on a credential of a provider that needs none', () => {
  const call = (orgId: string, model: string) =>
    gateway('/chat/completions', { token: owner.accessToken }, { model, messages }, asOrg(orgId));

  // The platform's keyless server serves the call whatever it is sent: any string as a "key" proves nothing.
  it.each(['BYOK', 'HYBRID'] as const)(
    'makes no own key at the platform’s server (no base URL of the organization’s): under %s the call is charged',
    async (strategy) => {
      const { slug, modelId, providerModelId } = await platformModel(); // no key needed, the fake provider is the platform's server
      const orgId = await byokOrg(strategy);
      const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
        token: owner.accessToken,
        body: { label: 'Junk key', providerSlug: slug, key: 'whatever-123' },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body).toMatchObject({ hasKey: true });
      const before = await credits(owner, orgId);
      const res = await call(orgId, modelId);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.headers.get('x-route')).toContain('key=platform');
      expect(fake().requests.map((r) => [r.model, r.headers.authorization])).toEqual([[providerModelId, undefined]]);
      const [log] = await usageOf(owner, orgId, 1);
      expect(log).toMatchObject({ metadata: { keySource: 'platform' } });
      expect(log!.credits).toBeGreaterThan(0);
      expect((await credits(owner, orgId)).available).toBe(before.available - log!.credits);
    },
  );
});

describe('the platform’s own keys', () => {
  const limitedModel = (keyQuotas: { dailyQuota?: number; monthlyQuota?: number }) =>
    fakePlatformModel(admin, fake().baseUrl('openai'), { platformKey: secret(), keyQuotas });
  const call = (orgId: string, model: string) =>
    gateway('/chat/completions', { token: owner.accessToken }, { model, messages }, asOrg(orgId));

  it('stop at their daily quota, across organizations: the call falls back to the next model, or is a 429 with none', async () => {
    await oneHour();
    const limited = await limitedModel({ dailyQuota: 1 });
    const backup = await platformModel();
    const withFallback = await byokOrg('PLATFORM');
    await fallbackRule(owner, withFallback, 'A backup for the limited key', limited.modelId, backup.modelId);

    expect((await call(withFallback, limited.modelId)).status).toBe(200);
    const second = await call(withFallback, limited.modelId);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.model).toBe(backup.modelId);
    expect(second.headers.get('x-route')).toMatch(
      new RegExp(`1:${limited.modelId} throttled \\d+ms, 2:${backup.modelId} ok \\d+ms$`),
    );
    const logs = await usageOf(owner, withFallback, 2);
    expect(logs.map((l) => [l.model, l.metadata.keySource, l.credits > 0]).sort()).toEqual(
      [
        [backup.modelId, 'platform', true],
        [limited.modelId, 'platform', true],
      ].sort(),
    );

    // The quota is the key's: another organization with no other model to fall back to is refused.
    const refused = await call(await byokOrg('PLATFORM'), limited.modelId);
    expect(refused.status, JSON.stringify(refused.body)).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'rate_limit_error', message: expect.stringContaining('quota') });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    expect(fake().requests.filter((r) => r.model === limited.providerModelId)).toHaveLength(1);
  }, 60_000);

  it('stop at their monthly quota alike', async () => {
    await oneHour();
    const limited = await limitedModel({ monthlyQuota: 1 });
    const orgId = await byokOrg('PLATFORM');
    expect((await call(orgId, limited.modelId)).status).toBe(200);
    const refused = await call(orgId, limited.modelId);
    expect(refused.status, JSON.stringify(refused.body)).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(fake().received()).toBe(1);
  });
});

/**
 * Opens a stream and reads only its head, never its body (a client that stopped reading), then
 * hangs up after `holdMs`.
 */
function openAndAbandon(token: string, body: unknown, holdMs: number, headers: Record<string, string> = {}) {
  return new Promise<number>((resolve) => {
    const req = request(
      new URL('/openai/v1/chat/completions', baseUrl()),
      { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers } },
      (res) => {
        res.pause();
        setTimeout(() => {
          req.destroy();
          resolve(res.statusCode ?? 0);
        }, holdMs);
      },
    );
    req.on('error', () => undefined);
    req.end(JSON.stringify(body));
  });
}

const modelMetricsOf = async (modelId: string, orgId: string) =>
  (await api('GET', `/v1/models/${modelId}/metrics?orgId=${orgId}`, { token: owner.accessToken })).body;

describe('a client that leaves', () => {
  it('a stream it stopped reading before hanging up is metered once: logged, charged for what was sent, its hold settled', async () => {
    const { modelId, providerModelId } = await platformModel();
    // Far more than the sockets between the gateway and the client hold: the gateway's writes back up.
    fake().script(providerModelId, { kind: 'ok', text: 'a '.repeat(300_000) });
    const orgId = await byokOrg('HYBRID'); // no key of its own: the platform's pays
    const before = await credits(owner, orgId);
    const status = await openAndAbandon(
      owner.accessToken,
      { model: modelId, stream: true, max_tokens: 1_000, messages: [{ role: 'user', content: 'Talk a lot' }] },
      2_000,
      asOrg(orgId),
    );
    expect(status).toBe(200);

    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({
      status: 'success',
      metadata: { stream: true, usageEstimated: true, clientClosed: true, keySource: 'platform' },
    });
    expect(log!.outputTokens).toBeGreaterThan(0);
    expect(log!.credits).toBeGreaterThan(0);
    expect(await credits(owner, orgId)).toMatchObject({ reserved: 0, available: before.available - log!.credits });
  }, 60_000);

  it('a stream it leaves between chunks is logged as the client leaving, not as an error of the model', async () => {
    const orgId = await byokOrg();
    await providerKey(orgId, 'openai');
    await oneHour();
    fake().script('gpt-4o-mini', { kind: 'ok', text: 'one two three four five six seven eight', chunkDelayMs: 300 });
    const controller = new AbortController();
    const response = await stream(
      owner.accessToken,
      { model: 'gpt-4o-mini', stream: true, messages },
      controller.signal,
      asOrg(orgId),
    );
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    while (!seen.includes('"content":"one')) seen += decoder.decode((await reader.read()).value, { stream: true });
    controller.abort();

    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({ status: 'success', metadata: { stream: true, usageEstimated: true, clientClosed: true } });
    expect(log!.outputTokens).toBeGreaterThan(0);
    expect(await modelMetricsOf('gpt-4o-mini', orgId)).toMatchObject({ calls: 1, errors: 0, errorTypes: {} });
  }, 60_000);

  it('a call it cancels before the answer is logged as the client leaving, charged nothing, no error of the model', async () => {
    const orgId = await byokOrg();
    await providerKey(orgId, 'openai');
    fake().script('gpt-4o-mini', { kind: 'ok', delayMs: 5_000 });
    await oneHour();
    const controller = new AbortController();
    const call = fetch(`${baseUrl()}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.accessToken}`, 'content-type': 'application/json', ...asOrg(orgId) },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages }),
      signal: controller.signal,
    }).catch(() => undefined);
    while (fake().received() === 0) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await call;

    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({ status: 'success', outputTokens: 0, credits: 0, metadata: { clientClosed: true } });
    expect(await modelMetricsOf('gpt-4o-mini', orgId)).toMatchObject({ calls: 1, errors: 0, errorTypes: {} });
  }, 60_000);
});
