import { describe, expect, it } from 'vitest';
import { SETTLE_MS, modelMetricsJob } from '@platform/domain/gateway/metrics';
import {
  api,
  baseUrl,
  clearOfPeriodEnd,
  createTeam,
  errorPaths,
  signUpPlatformAdmin,
  signUpUser,
  type SignedInUser,
} from '../helpers/api.ts';
import { credits, gateway, keyFor, readStream, stream, usageOf } from '../helpers/gateway.ts';

/**
 * The OpenAI-compatible gateway end to end, through the local server and the local model:
 * answers in OpenAI's shapes, real streaming, metering once per call (credits, usage log,
 * model metric), limits, credits and tenancy.
 */
const CHAT = 'local-chat';
const LIGHTHOUSE_TOKENS = [64, 326, 59009];
const messages = [{ role: 'user', content: 'Say something about lighthouses and the sea at night.' }];

describe.concurrent('chat completions', () => {
  it('answer in OpenAI’s shape, explain the route, and charge the real tokens once', async () => {
    const owner = await signUpUser('gw');
    const orgId = owner.personalOrgId;
    const before = await credits(owner, orgId);
    const res = await gateway('/chat/completions', { token: owner.accessToken }, { model: CHAT, messages, max_tokens: 200 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      object: 'chat.completion',
      model: CHAT,
      choices: [{ index: 0, message: { role: 'assistant', content: expect.stringContaining('local') }, finish_reason: 'stop' }],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) },
    });
    expect(res.body.id).toMatch(/^chatcmpl-/);
    expect(res.headers.get('x-route')).toContain(CHAT);
    // The gateway's own time, apart from the provider's: a small non-negative number of milliseconds.
    // Number(null) is 0, so the header must be there, and a number, before its value says anything.
    const overhead = res.headers.get('x-gateway-overhead-ms') ?? 'absent';
    expect(overhead, 'x-gateway-overhead-ms').toMatch(/^\d+(\.\d+)?$/);
    expect(Number(overhead)).toBeGreaterThanOrEqual(0);
    expect(Number(overhead)).toBeLessThan(5_000);

    const log = (await usageOf(owner, orgId, 1))[0]!;
    expect(log).toMatchObject({
      agentType: 'chat',
      model: CHAT,
      userId: owner.userId,
      inputTokens: res.body.usage.prompt_tokens,
      outputTokens: res.body.usage.completion_tokens,
      status: 'success',
    });
    const after = await credits(owner, orgId);
    expect(after.reserved).toBe(0);
    expect(after.available).toBe(before.available - log.credits);
    expect(log.credits).toBeGreaterThan(0);
  });

  it('stream as server-sent events, really incrementally, with the usage in the last chunk', async () => {
    const owner = await signUpUser('gwstream');
    const key = await keyFor(owner, owner.personalOrgId);
    const response = await stream(key, { model: CHAT, messages, stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = await readStream(response);
    expect(events.at(-1)!.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks[0]).toMatchObject({ object: 'chat.completion.chunk', choices: [{ delta: { role: 'assistant' } }] });
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage.completion_tokens).toBeGreaterThan(0);
    expect(chunks.filter((c) => c.choices[0]?.finish_reason === 'stop')).toHaveLength(1);
    // The same prompt answers the same text without streaming (the local model is deterministic).
    const whole = await gateway('/chat/completions', { apiKey: key }, { model: CHAT, messages });
    expect(text).toBe(whole.body.choices[0].message.content);
    // Streamed: the first token came well before the end. A busy machine can hold this client back
    // until the whole stream is in; one stream seen arriving in pieces proves it (up to 3 tries).
    const gap = (seen: typeof events) =>
      seen.at(-1)!.at - seen.find((e) => e.data.includes('"content":"') && !e.data.includes('"content":""'))!.at;
    let arrivedOver = gap(events);
    for (let attempt = 2; arrivedOver <= 5 && attempt <= 3; attempt++)
      arrivedOver = gap(await readStream(await stream(key, { model: CHAT, messages, stream: true })));
    expect(arrivedOver).toBeGreaterThan(5);

    const logs = await usageOf(owner, owner.personalOrgId, 2);
    const streamed = logs.find((l) => l.metadata?.stream)!;
    expect(streamed).toMatchObject({
      apiClientId: expect.stringMatching(/^ak_/),
      userId: owner.userId, // the member the key acts for: the user's usage includes it
      outputTokens: usage.usage.completion_tokens,
    });
    const mine = await api('GET', `/v1/orgs/${owner.personalOrgId}/usage?userId=${owner.userId}`, { token: owner.accessToken });
    expect(mine.body.items.map((l: { usageId: string }) => l.usageId)).toContain(streamed.usageId);
  });

  it('meter a stream the client abandons once, for what was delivered', async () => {
    const owner = await signUpUser('gwabandon');
    const controller = new AbortController();
    const response = await stream(
      owner.accessToken,
      { model: CHAT, stream: true, messages: [{ role: 'user', content: 'Tell a long story. '.repeat(20) }], max_tokens: 2000 },
      controller.signal,
    );
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    controller.abort();
    const log = (await usageOf(owner, owner.personalOrgId, 1))[0]!;
    expect(log.metadata).toMatchObject({ stream: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(await usageOf(owner, owner.personalOrgId, 1)).toHaveLength(1);
    expect((await credits(owner, owner.personalOrgId)).reserved).toBe(0);
  });

  it('answer an unknown path or a wrong method under /openai in OpenAI’s error shape', async () => {
    const owner = await signUpUser('gwpaths');
    const raw = async (method: string, path: string) => {
      const res = await fetch(`${baseUrl()}${path}`, {
        method,
        headers: { authorization: `Bearer ${owner.accessToken}`, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as { error: unknown } };
    };
    const unknown = await raw('POST', '/openai/v1/completions');
    const method = await raw('GET', '/openai/v1/chat/completions');
    for (const [res, status, code] of [
      [unknown, 404, 'unknown_url'],
      [method, 405, 'method_not_allowed'],
    ] as const) {
      expect(res.type).toContain('application/json');
      expect([res.status, res.body.error]).toEqual([
        status,
        { message: expect.any(String), type: 'invalid_request_error', param: null, code },
      ]);
    }
  });

  it('refuse unknown models, unsupported features and bad input in OpenAI’s error shape', async () => {
    const owner = await signUpUser('gwbad');
    const unknown = await gateway('/chat/completions', { token: owner.accessToken }, { model: 'no-such-model', messages });
    expect(unknown.status).toBe(404);
    // As OpenAI answers it, so clients that look for `model_not_found` find it.
    expect(unknown.body.error).toEqual({
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
      message: expect.stringContaining('Unknown model no-such-model'),
    });
    const tools = await gateway(
      '/chat/completions',
      { token: owner.accessToken },
      { model: CHAT, messages, tools: [{ type: 'function' }] },
    );
    expect(tools.status).toBe(400);
    expect(tools.body.error).toMatchObject({ type: 'invalid_request_error', param: 'tools' });
    // A JSON mode or a tool to choose cannot be served: refused, not answered with free text.
    for (const [param, value] of [
      ['response_format', { type: 'json_object' }],
      ['response_format', { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } }],
      ['tool_choice', 'required'],
      ['tool_choice', { type: 'function', function: { name: 'lookup' } }],
    ] as const) {
      const refused = await gateway('/chat/completions', { token: owner.accessToken }, { model: CHAT, messages, [param]: value });
      expect(refused.status, JSON.stringify(value)).toBe(400);
      expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
    // What changes nothing is served, and `null` is as absent (some clients send every field).
    const plain = await gateway(
      '/chat/completions',
      { token: owner.accessToken },
      { model: CHAT, messages, response_format: { type: 'text' }, tool_choice: 'none', user: null, n: null, stop: null },
    );
    expect(plain.status, JSON.stringify(plain.body)).toBe(200);
    const embedded = await gateway(
      '/embeddings',
      { token: owner.accessToken },
      { model: 'local-embed', input: 'a lighthouse', encoding_format: null, dimensions: null, user: null },
    );
    expect(embedded.status, JSON.stringify(embedded.body)).toBe(200);
    const drawn = await gateway(
      '/images/generations',
      { token: owner.accessToken },
      {
        model: 'local-image',
        prompt: 'a lighthouse',
        n: null,
        size: null,
        response_format: null,
        quality: null,
        style: null,
        user: null,
      },
    );
    expect(drawn.status, JSON.stringify(drawn.body)).toBe(200);
    const none = await gateway('/chat/completions', {}, { model: CHAT, messages });
    expect(none.status).toBe(401);
    expect(none.body.error.type).toBe('authentication_error');
  });

  it('answer 402 when the organization cannot cover the call, holding nothing', async () => {
    const owner = await signUpUser('gwbroke');
    const admin = await signUpPlatformAdmin();
    const { available } = await credits(owner, owner.personalOrgId);
    const drained = await api('POST', `/v1/admin/orgs/${owner.personalOrgId}/credits/adjustments`, {
      token: admin.accessToken,
      body: { amount: -available, reason: 'Test: an empty balance' },
    });
    expect(drained.status, JSON.stringify(drained.body)).toBe(201);
    const res = await gateway('/chat/completions', { token: owner.accessToken }, { model: CHAT, messages });
    expect(res.status).toBe(402);
    expect(res.body.error).toMatchObject({ type: 'insufficient_quota' });
    // The route was decided before the balance refused it: the answer says which, as every other does.
    expect(res.headers.get('x-route')).toContain(CHAT);
    expect(await credits(owner, owner.personalOrgId)).toMatchObject({ available: 0, reserved: 0 });
  });
});

describe.concurrent('tenancy and permissions', () => {
  it('bill the organization named by OpenAI-Organization, and only one the user belongs to', async () => {
    const owner = await signUpUser('gwteam');
    const stranger = await signUpUser('gwstranger');
    const { orgId } = await createTeam(owner);
    const res = await gateway(
      '/chat/completions',
      { token: owner.accessToken },
      { model: CHAT, messages },
      { 'openai-organization': orgId },
    );
    expect(res.status).toBe(200);
    expect(await usageOf(owner, orgId, 1)).toHaveLength(1);
    const denied = await gateway(
      '/chat/completions',
      { token: stranger.accessToken },
      { model: CHAT, messages },
      { 'openai-organization': orgId },
    );
    expect(denied.status).toBe(404);
  });

  it('let a key act only for its own organization and only with the gateway:invoke scope', async () => {
    const owner = await signUpUser('gwkey');
    const other = await signUpUser('gwother');
    const key = await keyFor(owner, owner.personalOrgId);
    const elsewhere = await gateway(
      '/chat/completions',
      { apiKey: key },
      { model: CHAT, messages },
      { 'openai-organization': other.personalOrgId },
    );
    expect(elsewhere.status).toBe(404);
    const readOnly = await keyFor(owner, owner.personalOrgId, ['org:read']);
    const refused = await gateway('/chat/completions', { apiKey: readOnly }, { model: CHAT, messages });
    expect(refused.status).toBe(403);
    expect(refused.body.error.type).toBe('permission_error');
  });

  it('stop taking a key at its expiry, though it took it a moment before (its principal is remembered no longer)', async () => {
    const owner = await signUpUser('gwexpiry');
    const expiresAt = new Date(Date.now() + 4_000).toISOString();
    const created = await api('POST', `/v1/orgs/${owner.personalOrgId}/api-clients`, {
      token: owner.accessToken,
      body: { name: 'short-lived', scopes: ['gateway:invoke'], expiresAt },
    });
    expect(created.status).toBe(201);
    expect((await gateway('/models', { apiKey: created.body.key })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(expiresAt) - Date.now() + 100));
    expect((await gateway('/models', { apiKey: created.body.key })).status).toBe(401);
  });

  it('without OpenAI-Organization, bill the personal organization once the default one was left or deleted', async () => {
    const [owner, member] = await Promise.all([signUpUser('gwdefault'), signUpUser('gwdefault-m')]);
    const { orgId } = await createTeam(owner, [{ user: member, role: 'editor' }]);
    for (const user of [owner, member])
      expect((await api('PATCH', '/v1/me', { token: user.accessToken, body: { defaultOrgId: orgId } })).status).toBe(200);
    expect((await api('DELETE', `/v1/me/orgs/${orgId}`, { token: member.accessToken })).status).toBe(204);
    expect((await api('DELETE', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(204);
    for (const user of [owner, member]) {
      const res = await gateway('/chat/completions', { token: user.accessToken }, { model: CHAT, messages });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(await usageOf(user, user.personalOrgId, 1)).toHaveLength(1);
    }
  });

  it('refuse the token of a deleted account (404), a platform admin’s too, with or without OpenAI-Organization', async () => {
    const [user, admin, victim] = await Promise.all([
      signUpUser('gwdeleted'),
      signUpPlatformAdmin('gwdeleted-a'),
      signUpUser('gwdeleted-v'),
    ]);
    for (const gone of [user, admin]) expect((await api('DELETE', '/v1/me', { token: gone.accessToken })).status).toBe(204);
    expect((await gateway('/models', { token: user.accessToken })).status).toBe(404);
    const elsewhere = { 'openai-organization': victim.personalOrgId };
    const named = await gateway('/models', { token: admin.accessToken }, undefined, elsewhere);
    expect(named.status, JSON.stringify(named.body)).toBe(404);
  });

  it('let viewers not call models', async () => {
    const owner = await signUpUser('gwowner');
    const viewer = await signUpUser('gwviewer');
    const { orgId } = await createTeam(owner, [{ user: viewer, role: 'viewer' }]);
    const res = await gateway(
      '/chat/completions',
      { token: viewer.accessToken },
      { model: CHAT, messages },
      { 'openai-organization': orgId },
    );
    expect(res.status).toBe(403);
  });
});

describe.concurrent('embeddings, images and models', () => {
  it('embed texts and make images with the local models, metered', async () => {
    const owner = await signUpUser('gwembed');
    const emb = await gateway(
      '/embeddings',
      { token: owner.accessToken },
      { model: 'local-embed', input: ['a lighthouse', 'the sea'] },
    );
    expect(emb.status, JSON.stringify(emb.body)).toBe(200);
    expect(emb.body).toMatchObject({
      object: 'list',
      data: [{ index: 0 }, { index: 1 }],
      usage: { prompt_tokens: expect.any(Number) },
    });
    expect(emb.body.data[0].embedding.length).toBeGreaterThan(8);
    const img = await gateway(
      '/images/generations',
      { token: owner.accessToken },
      { model: 'local-image', prompt: 'a lighthouse', n: 2, size: '256x256' },
    );
    expect(img.status, JSON.stringify(img.body)).toBe(200);
    expect(img.body.data).toHaveLength(2);
    expect(Buffer.from(img.body.data[0].b64_json, 'base64').subarray(1, 4).toString()).toBe('PNG');
    const logs = await usageOf(owner, owner.personalOrgId, 2);
    expect(logs.map((l) => l.model).sort()).toEqual(['local-embed', 'local-image']);
  });

  it('embed token arrays as the texts they encode (cl100k_base), as LangChain sends them; an id outside it is a 400 at input', async () => {
    const owner = await signUpUser('gwtokens');
    const embed = (input: unknown) => gateway('/embeddings', { token: owner.accessToken }, { model: 'local-embed', input });
    const texts = await embed(['a lighthouse', 'the sea']);
    // 'a lighthouse' and 'the sea' in cl100k_base, one array and several.
    const several = await embed([LIGHTHOUSE_TOKENS, [1820, 9581]]);
    expect(several.status, JSON.stringify(several.body)).toBe(200);
    expect(several.body.data.map((d: { embedding: number[] }) => d.embedding)).toEqual(
      texts.body.data.map((d: { embedding: number[] }) => d.embedding),
    );
    const one = await embed(LIGHTHOUSE_TOKENS);
    expect(one.body.data.map((d: { embedding: number[] }) => d.embedding)).toEqual([texts.body.data[0].embedding]);
    const cases = [
      [100_256],
      [[1820], []],
      [1.5],
      ['text', 1820],
      Array.from({ length: 8_193 }, () => 1820),
      // Past 300,000 tokens in all; and a batch of 1.5 million bad ids (4.7 MB), refused at the first.
      Array.from({ length: 37 }, () => Array.from({ length: 8_192 }, () => 1820)),
      Array.from({ length: 192 }, () => Array.from({ length: 8_192 }, () => -1)),
      // 800 tokens of 128 spaces: more text than an input may hold.
      [[64], Array.from({ length: 800 }, () => 58_040)],
    ];
    for (const input of cases) {
      const res = await embed(input);
      expect(res.status, JSON.stringify(input).slice(0, 40)).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param: expect.stringMatching(/^input/) });
    }
  });

  it('list the models an organization can call', async () => {
    const owner = await signUpUser('gwmodels');
    const res = await gateway('/models', { token: owner.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.object).toBe('list');
    expect(res.body.data.map((m: { id: string }) => m.id)).toContain(CHAT);
  });

  it('count a key’s model list against its `api` limit, as any call of a key: past it, a 429 with Retry-After and X-RateLimit headers', async () => {
    // The calls must fall in one hourly window.
    await clearOfPeriodEnd(3_600_000, 20_000);
    const [owner, admin] = await Promise.all([signUpUser('gwlistlimit'), signUpPlatformAdmin('gwlistlimit-a')]);
    const { orgId } = await createTeam(owner);
    const created = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      token: owner.accessToken,
      body: { name: 'Lister', scopes: ['gateway:invoke'] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { key, clientId } = created.body as { key: string; clientId: string };
    const set = await api('PUT', `/v1/admin/orgs/${orgId}/limits`, {
      token: admin.accessToken,
      body: { subject: `client#${clientId}`, resource: 'api', hourly: 2 },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);

    expect((await gateway('/models', { apiKey: key })).status).toBe(200);
    expect((await gateway('/models', { apiKey: key })).status).toBe(200);
    const refused = await gateway('/models', { apiKey: key });
    expect(refused.status, JSON.stringify(refused.body)).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'rate_limit_error', message: expect.stringContaining('api') });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(3_600);
    expect(refused.headers.get('x-ratelimit-limit')).toBe('2');
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    // The lists used the key's allowance: its model calls are refused too; the owner's own list counts no `api`.
    expect((await gateway('/chat/completions', { apiKey: key }, { model: CHAT, messages })).status).toBe(429);
    expect((await gateway('/models', { token: owner.accessToken }, undefined, { 'openai-organization': orgId })).status).toBe(
      200,
    );
    const limits = await api('GET', `/v1/orgs/${orgId}/limits`, { token: owner.accessToken });
    expect(limits.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ subject: `client#${clientId}`, resource: 'api', used: 2, remaining: 0 }),
      ]),
    );
  });
});

describe.concurrent('custom models', () => {
  const free = { inputPerMTokMicros: 0, outputPerMTokMicros: 0, perImageMicros: 0 };
  const customModel = (owner: SignedInUser, orgId: string, body: Record<string, unknown>) =>
    api('POST', `/v1/orgs/${orgId}/models`, {
      token: owner.accessToken,
      body: { providerSlug: 'local', name: 'Priced by us', type: 'TEXT', pricing: free, ...body },
    });

  it('are charged at the platform’s price when the platform’s key serves them, whatever their own price', async () => {
    const owner = await signUpUser('gwcustom');
    const { orgId } = await createTeam(owner);
    const h = { 'openai-organization': orgId };
    const chat = await customModel(owner, orgId, { providerModelId: CHAT });
    const images = await customModel(owner, orgId, { providerModelId: 'local-image', type: 'IMAGE', capabilities: ['images'] });
    expect([chat.status, images.status]).toEqual([201, 201]);
    const before = await credits(owner, orgId);
    const res = await gateway('/chat/completions', { token: owner.accessToken }, { model: chat.body.modelId, messages }, h);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get('x-route')).toContain('key=platform');
    const img = await gateway(
      '/images/generations',
      { token: owner.accessToken },
      { model: images.body.modelId, prompt: 'a cat', n: 4 },
      h,
    );
    expect(img.status, JSON.stringify(img.body)).toBe(200);

    // Priced as the catalogue's local-chat (0.1 / 0.2 USD per million tokens) and local-image (0.001 USD an image).
    const logs = await usageOf(owner, orgId, 2);
    const chatLog = logs.find((l) => l.model === chat.body.modelId)!;
    expect(chatLog.inputCostMicros).toBe(Math.ceil((chatLog.inputTokens * 100_000) / 1_000_000));
    expect(chatLog.outputCostMicros).toBe(Math.ceil((chatLog.outputTokens * 200_000) / 1_000_000));
    expect(logs.find((l) => l.model === images.body.modelId)).toMatchObject({ totalCostMicros: 4_000 });
    expect(logs.every((l) => l.credits > 0)).toBe(true);
    const after = await credits(owner, orgId);
    expect(after).toMatchObject({ available: before.available - chatLog.credits - 1, reserved: 0 });
  });

  it('not in the platform’s catalogue are served only through an own key', async () => {
    const owner = await signUpUser('gwcustom2');
    const { orgId } = await createTeam(owner);
    const made = await customModel(owner, orgId, { providerModelId: 'my-own-model' });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const res = await gateway(
      '/chat/completions',
      { token: owner.accessToken },
      { model: made.body.modelId, messages },
      {
        'openai-organization': orgId,
      },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error.message).toContain('own key');
  });
});

describe('model metrics', () => {
  it('show an organization’s admins their calls, and platform admins every call', async () => {
    const owner = await signUpUser('gwmetrics');
    const editor = await signUpUser('gweditor');
    const { orgId } = await createTeam(owner, [{ user: editor, role: 'editor' }]);
    // Until the job rolls them up, only the current hour's calls are read: the calls and the reads
    // that count them must fall in one hour.
    await clearOfPeriodEnd(3_600_000, 30_000);
    for (let i = 0; i < 3; i++)
      expect(
        (
          await gateway(
            '/chat/completions',
            { token: owner.accessToken },
            { model: CHAT, messages },
            { 'openai-organization': orgId },
          )
        ).status,
      ).toBe(200);
    await usageOf(owner, orgId, 3);
    const asked = Date.now();
    const mine = await api('GET', `/v1/models/${CHAT}/metrics?orgId=${orgId}`, { token: owner.accessToken });
    expect(mine.status, JSON.stringify(mine.body)).toBe(200);
    expect(mine.body).toMatchObject({ modelId: CHAT, scope: orgId, calls: 3, errors: 0, errorRate: 0 });
    expect(mine.body.latencyMs.p50).toBeGreaterThanOrEqual(0);
    expect(mine.body.tokens.total).toBeGreaterThan(0);
    expect(Date.parse(mine.body.asOf)).toBeGreaterThanOrEqual(asked - 1_000);
    // The range counted is whole hours (calls are kept by the hour), and the answer says which.
    const hour = (ms: number) => new Date(Math.floor(ms / 3_600_000) * 3_600_000).toISOString();
    const [from, to] = [new Date(asked - 7_200_000 + 1_234), new Date(asked + 60_000)];
    const ranged = await api(
      'GET',
      `/v1/models/${CHAT}/metrics?orgId=${orgId}&from=${from.toISOString()}&to=${to.toISOString()}`,
      {
        token: owner.accessToken,
      },
    );
    expect(ranged.body).toMatchObject({ calls: 3, from: hour(from.getTime()), to: hour(to.getTime() - 1 + 3_600_000) });
    // Once the job has rolled them up, the same three calls, from the roll-up. The job runs as if
    // SETTLE_MS had passed since `asked` (after these calls were recorded), not since a later
    // instant: every model's roll-up reaches that instant, and a call of another suite's recorded
    // before it but landing after the job would be counted by no roll-up nor the reads after it.
    await modelMetricsJob(new Date(asked + SETTLE_MS));
    const rolled = await api('GET', `/v1/models/${CHAT}/metrics?orgId=${orgId}`, { token: owner.accessToken });
    expect(rolled.body).toMatchObject({ calls: 3, errors: 0, tokens: mine.body.tokens });
    expect((await api('GET', `/v1/models/${CHAT}/metrics?orgId=${orgId}`, { token: editor.accessToken })).status).toBe(403);
    expect((await api('GET', `/v1/models/${CHAT}/metrics`, { token: owner.accessToken })).status).toBe(403);
    const admin = await signUpPlatformAdmin();
    const all = await api('GET', `/v1/models/${CHAT}/metrics`, { token: admin.accessToken });
    expect(all.status).toBe(200);
    expect(all.body.calls).toBeGreaterThanOrEqual(3);
    expect(all.body.scope).toBe('all');
  }, 60_000);

  it('refuse a range they cannot count (400, at the parameter): reversed, past 93 days, not a time, or outside years 0001–9999', async () => {
    const admin = await signUpPlatformAdmin();
    const at = (query: string) => api('GET', `/v1/models/${CHAT}/metrics?${query}`, { token: admin.accessToken });
    for (const [query, path] of [
      ['from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.from'],
      ['from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z', 'query.from'],
      ['from=yesterday', 'query.from'],
      // In UTC the year before 0001 (-000001-12-31…), which sorts before every stored hour.
      ['from=0000-01-01T00:30:00%2B01:00&to=0000-01-01T05:00:00Z', 'query.from'],
      ['from=0001-01-01T00:30:00%2B01:00&to=0001-01-02T00:00:00Z', 'query.from'],
      ['from=9999-12-31T20:00:00Z&to=9999-12-31T23:30:00-01:00', 'query.to'],
    ] as const) {
      const res = await at(query);
      expect(res.status, query).toBe(400);
      expect(errorPaths(res.body), query).toContain(path);
    }
    expect((await at('from=0001-01-01T00:00:00Z&to=0001-01-02T00:00:00Z')).body).toMatchObject({ calls: 0 });
    expect((await at('from=9999-12-31T20:00:00Z&to=9999-12-31T23:30:00Z')).body).toMatchObject({ calls: 0 });
  });
});
