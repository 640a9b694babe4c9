import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as routes from '@platform/api/routes/gateway';
import { routeTags, type ImagesBody } from '@platform/domain/gateway/openai';
import { chat, images } from '@platform/domain/gateway/service';
import { forgetSnapshot } from '@platform/domain/hub/snapshot';
import { DEADLINE_MARGIN_MS, gatewayHandler, gatewayRoute, openAiError } from '@platform/http/gateway';
import type { ResponsePrelude } from '@platform/http/streaming';
import { localLambdaContext } from '@platform/local/lambda-context';
import {
  api,
  asPlatformAdmin,
  clearOfPeriodEnd,
  createTeam,
  signUpPlatformAdmin,
  signUpUser,
  type SignedInUser,
} from '../helpers/api.ts';
import { FAKE_TEXT, times, type Behaviour } from '../helpers/fake-provider.ts';
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
 * Metering when providers fail, end to end over HTTP, with the platform's models served by the
 * fake provider on loopback: a call no provider answers (after retries and fallbacks), a stream
 * that breaks off after some chunks, a provider that hangs, and (the gateway's handler in this
 * process, given a Lambda context) a call that runs out of its function's time. The client gets OpenAI's error
 * shape (or, mid-stream, an error frame and `[DONE]`); the credit hold is released, or settled
 * once for what was delivered; one usage log and one model metric say what happened. Also what
 * providers answer 200 that their APIs never answer (an organization's own server on loopback, a
 * Bedrock image model with the SDK stubbed in this process): the providers' failure, not a 200.
 */
const fake = useFakeProvider();
const messages = [{ role: 'user', content: 'Which way to the lighthouse?' }];

let owner: SignedInUser;
let admin: SignedInUser;

beforeAll(async () => {
  [owner, admin] = await Promise.all([signUpUser('gwfail'), signUpPlatformAdmin('gwfailadmin')]);
});

/**
 * A provider of the platform at the fake provider and a catalogue model of it, paid by the
 * platform. With `timeoutMs`, the platform's key for it sets that deadline in its config.
 */
const platformModel = (options: { timeoutMs?: number } = {}) =>
  fakePlatformModel(
    admin,
    fake().baseUrl('openai'),
    options.timeoutMs === undefined
      ? {}
      : { platformKey: `sk-platform-${randomUUID().replace(/-/g, '')}`, keyConfig: { timeoutMs: options.timeoutMs } },
  );

const asOrg = (orgId: string) => ({ 'openai-organization': orgId });

const metricsOf = async (modelId: string, orgId: string) =>
  (await api('GET', `/v1/models/${modelId}/metrics?orgId=${orgId}`, { token: owner.accessToken })).body;

/** The ledger rows of the organization beyond its grant: what calls held, charged and gave back. */
const callRows = async (orgId: string) =>
  (
    (await api('GET', `/v1/orgs/${orgId}/credits/transactions`, { token: owner.accessToken })).body.items as Array<{
      type: string;
      amount: number;
    }>
  ).filter((row) => row.type !== 'grant');

/**
 * Model metrics read before the roll-up count the current hour's calls only: a test that reads
 * them waits out the end of the hour when it is close.
 */
const oneHour = () => clearOfPeriodEnd(3_600_000, 30_000);

describe('a call no provider answers', () => {
  it('is a 502 in OpenAI’s shape after retries and fallbacks: its hold released, one usage log and one error metric', async () => {
    await oneHour();
    const primary = await platformModel();
    const fallback = await platformModel();
    const { orgId } = await createTeam(owner);
    const rule = await fallbackRule(owner, orgId, 'Both fail', primary.modelId, fallback.modelId);
    fake().script(primary.providerModelId, times(3, { kind: 'fail', status: 500 }));
    fake().script(fallback.providerModelId, times(3, { kind: 'fail', status: 500 }));
    const before = await credits(owner, orgId);

    const res = await gateway(
      '/chat/completions',
      { token: owner.accessToken },
      { model: primary.modelId, messages },
      asOrg(orgId),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(502);
    expect(res.body).toEqual({
      error: {
        message: expect.stringContaining('Every model that could serve this failed'),
        type: 'api_error',
        param: null,
        code: 'upstream_error',
      },
    });
    // Each model was tried three times, the fallback after the primary.
    expect(fake().requests.map((r) => r.model)).toEqual(
      [primary, primary, primary, fallback, fallback, fallback].map((m) => m.providerModelId),
    );
    expect(res.headers.get('x-route')).toMatch(
      new RegExp(`1:${primary.modelId} server/500 .*2:${fallback.modelId} server/500 \\d+ms$`),
    );

    // The hold is given back: nothing charged, nothing left reserved.
    expect(await credits(owner, orgId)).toMatchObject({ available: before.available, reserved: 0 });
    expect((await callRows(orgId)).filter((row) => row.type === 'settle')).toEqual([]);
    // The record is written before the answer: one usage log, now.
    const logs = (await api('GET', `/v1/orgs/${orgId}/usage`, { token: owner.accessToken })).body.items;
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      model: fallback.modelId,
      status: 'error',
      credits: 0,
      outputTokens: 0,
      metadata: {
        keySource: 'platform',
        ruleId: rule.ruleId,
        errorType: 'server',
        route: expect.stringContaining('server/500'),
      },
    });
    // One error for each model tried: the call's own metric is the model's that failed last.
    expect(await metricsOf(fallback.modelId, orgId)).toMatchObject({
      calls: 1,
      errors: 1,
      timeouts: 0,
      errorTypes: { server: 1 },
    });
    expect(await metricsOf(primary.modelId, orgId)).toMatchObject({ calls: 1, errors: 1, errorTypes: { server: 1 } });
  }, 30_000);
});

describe('a failure that is not the model’s', () => {
  const chat = (modelId: string, orgId: string, content: unknown = 'hi') =>
    gateway(
      '/chat/completions',
      { token: owner.accessToken },
      { model: modelId, messages: [{ role: 'user', content }] },
      asOrg(orgId),
    );

  it.each<[string, Behaviour, number, string]>([
    [
      'a bad request (the provider’s 400)',
      { kind: 'fail', status: 400, message: "Invalid 'messages': too long" },
      400,
      'invalid',
    ],
    ['a refused prompt', { kind: 'fail', status: 400, code: 'content_filter', message: 'flagged' }, 422, 'content_filter'],
  ])(
    '%s is a call of the model but none of its errors; the usage log keeps its errorType',
    async (_, behaviour, status, errorType) => {
      await oneHour();
      const { modelId, providerModelId } = await platformModel();
      const { orgId } = await createTeam(owner);
      fake().script(providerModelId, behaviour);
      const res = await chat(modelId, orgId);
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      const [log] = await usageOf(owner, orgId, 1);
      expect(log).toMatchObject({ model: modelId, status: 'error', metadata: { errorType } });
      expect(await metricsOf(modelId, orgId)).toMatchObject({ calls: 1, errors: 0, timeouts: 0, errorRate: 0, errorTypes: {} });
    },
    30_000,
  );

  it('a request the model cannot take (nothing sent) is no call of the model', async () => {
    await oneHour();
    const { modelId } = await fakePlatformModel(admin, fake().baseUrl('anthropic'), { adapter: 'anthropic' });
    const { orgId } = await createTeam(owner);
    const sent = fake().requests.length;
    const res = await chat(modelId, orgId, [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }]);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(fake().requests.length, 'nothing was sent to the provider').toBe(sent);
    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({ model: modelId, status: 'error', metadata: { errorType: 'invalid' } });
    expect(await metricsOf(modelId, orgId)).toMatchObject({ calls: 0, errors: 0, errorRate: 0 });
  }, 30_000);

  it('a key whose quota is spent (nothing sent) is no call of the model', async () => {
    await oneHour();
    const { modelId } = await fakePlatformModel(admin, fake().baseUrl('openai'), {
      platformKey: `sk-platform-${randomUUID().replace(/-/g, '')}`,
      keyQuotas: { dailyQuota: 1 },
    });
    const { orgId } = await createTeam(owner);
    expect((await chat(modelId, orgId)).status).toBe(200);
    const sent = fake().requests.length;
    const spent = await chat(modelId, orgId);
    expect(spent.status, JSON.stringify(spent.body)).toBe(429);
    expect(fake().requests.length, 'nothing was sent to the provider').toBe(sent);
    const logs = await usageOf(owner, orgId, 2);
    expect(logs.map((log) => log.status).sort()).toEqual(['error', 'success']);
    // The one call the provider answered, and no error.
    expect(await metricsOf(modelId, orgId)).toMatchObject({ calls: 1, errors: 0, errorRate: 0 });
  }, 30_000);
});

describe('a provider that reports counts that are not token counts', () => {
  it('tells the client what the call was metered on, not the provider’s figures: streamed or not', async () => {
    const { modelId, providerModelId } = await platformModel();
    const { orgId } = await createTeam(owner);
    fake().script(providerModelId, { kind: 'ok', inputTokens: 10.5, outputTokens: 2.5 });
    const res = await gateway('/chat/completions', { token: owner.accessToken }, { model: modelId, messages }, asOrg(orgId));
    expect(res.body.usage).toEqual({ prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 });
    fake().script(providerModelId, { kind: 'ok', inputTokens: 10, outputTokens: -5 });
    const events = await readStream(
      await stream(owner.accessToken, { model: modelId, messages, stream: true }, undefined, asOrg(orgId)),
    );
    expect(JSON.parse(events.at(-2)!.data).usage).toEqual({ prompt_tokens: 10, completion_tokens: 0, total_tokens: 10 });
    const logs = await usageOf(owner, orgId, 2);
    expect(logs.map((log) => [log.inputTokens, log.outputTokens]).sort()).toEqual([
      [10, 0],
      [11, 3],
    ]);
  });
});

describe('a provider that answers 200 with what its API never answers', () => {
  /**
   * An organization's own server at a loopback address: every call answered 200, a call with the
   * JSON `answer.json`, a stream with one `data:` event per entry of `answer.events`.
   */
  let answer: { json: string; events: string[] } = { json: 'null', events: [] };
  let server: Server;
  let serverUrl = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { stream?: boolean };
        if (body.stream === true || req.url?.includes('alt=sse')) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(answer.events.map((event) => `data: ${event}\n\n`).join(''));
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(answer.json);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function ownKey(orgId: string, providerSlug: string, path: string) {
    const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
      token: owner.accessToken,
      body: { label: 'Own server', providerSlug, key: `sk-own-${randomUUID()}`, baseUrl: serverUrl + path },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  }

  // Each dialect's answer as JSON that is no object, or with a field its adapter reads of another type.
  it.each<[string, string, string, string, 'chat' | 'stream' | 'embeddings', string[]]>([
    ['openai', 'null', '/v1', 'gpt-4o-mini', 'chat', ['null']],
    ['openai', 'embeddings of null', '/v1', 'text-embedding-3-small', 'embeddings', ['{"data":[null]}']],
    ...(
      [
        ['a vector of what are no numbers', ['a', null, {}]],
        ['a vector of vectors', [[0.25], [0.5]]],
        ['an empty vector', []],
      ] as const
    ).map(
      ([what, embedding]) =>
        [
          'openai',
          what,
          '/v1',
          'text-embedding-3-small',
          'embeddings',
          [JSON.stringify({ data: [{ object: 'embedding', index: 0, embedding }], usage: { prompt_tokens: 1 } })],
        ] as [string, string, string, string, 'embeddings', string[]],
    ),
    ['anthropic', 'content that is no list', '', 'claude-3-5-haiku', 'chat', ['{"content":5,"usage":{}}']],
    ['google', 'a candidate of null', '', 'gemini-1-5-flash', 'chat', ['{"candidates":[null],"usageMetadata":{}}']],
    ['openai', 'a stream event of null', '/v1', 'gpt-4o-mini', 'stream', ['null']],
    ['anthropic', 'a stream’s message_start without its message', '', 'claude-3-5-haiku', 'stream', ['{"type":"message_start"}']],
    [
      'google',
      'a stream event whose parts are no list',
      '',
      'gemini-1-5-flash',
      'stream',
      ['{"candidates":[{"content":{"parts":5}}]}'],
    ],
  ])(
    '%s, answering %s through an own key: the providers’ failure (a 502), not a 500',
    async (providerSlug, _, path, model, operation, sent) => {
      answer = operation === 'stream' ? { json: 'null', events: sent } : { json: sent[0]!, events: [] };
      const orgId = await strategyOrg(owner, 'BYOK');
      await ownKey(orgId, providerSlug, path);
      const auth = { token: owner.accessToken };
      const res =
        operation === 'stream'
          ? await stream(owner.accessToken, { model, messages, stream: true }, undefined, asOrg(orgId))
          : operation === 'embeddings'
            ? await gateway('/embeddings', auth, { model, input: ['Which way?'] }, asOrg(orgId))
            : await gateway('/chat/completions', auth, { model, messages }, asOrg(orgId));
      const body = res instanceof Response ? await res.json() : res.body;
      expect(res.status, JSON.stringify(body)).toBe(502);
      expect(body).toMatchObject({ error: { type: 'api_error', code: 'upstream_error' } });
      const [log] = await usageOf(owner, orgId, 1);
      expect(log).toMatchObject({ model, status: 'error', credits: 0, metadata: { keySource: 'byok' } });
    },
  );

  it('falls back from the own key to the platform’s under HYBRID, which serves the call', async () => {
    answer = { json: 'null', events: [] };
    const { slug, modelId } = await fakePlatformModel(admin, fake().baseUrl('openai'), {
      platformKey: `sk-platform-${randomUUID().replace(/-/g, '')}`,
    });
    const orgId = await strategyOrg(owner, 'HYBRID');
    await ownKey(orgId, slug, '/v1');
    const res = await gateway('/chat/completions', { token: owner.accessToken }, { model: modelId, messages }, asOrg(orgId));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ choices: [{ message: { content: FAKE_TEXT } }] });
    expect(res.headers.get('x-route')).toMatch(new RegExp(`1:${modelId} server \\d+ms.*2:${modelId} ok \\d+ms$`));
    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({ status: 'success', metadata: { keySource: 'platform' } });
  }, 30_000);

  /** A custom model of the organization, served through its own key. */
  async function ownModel(orgId: string, body: Record<string, unknown>) {
    const made = await api('POST', `/v1/orgs/${orgId}/models`, {
      token: owner.accessToken,
      body: {
        name: 'Own model',
        pricing: { inputPerMTokMicros: 1_000_000, outputPerMTokMicros: 0, perImageMicros: 40_000 },
        ...body,
      },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    return made.body.modelId as string;
  }

  it('google, answering an embedding of what are no numbers through an own key: the providers’ failure (a 502)', async () => {
    answer = { json: JSON.stringify({ embeddings: [{ values: [0.25] }, { values: ['a', null] }] }), events: [] };
    const orgId = await strategyOrg(owner, 'BYOK');
    await ownKey(orgId, 'google', '');
    const model = await ownModel(orgId, {
      providerSlug: 'google',
      providerModelId: 'text-embedding-004',
      type: 'TEXT',
      capabilities: ['embeddings'],
    });
    const res = await gateway('/embeddings', { token: owner.accessToken }, { model, input: ['one', 'two'] }, asOrg(orgId));
    expect(res.status, JSON.stringify(res.body)).toBe(502);
    expect(res.body).toMatchObject({ error: { type: 'api_error', code: 'upstream_error' } });
  });

  it('openai, answering two vectors for one input and none for the other: a 502, not the vectors renumbered by position', async () => {
    const orgId = await strategyOrg(owner, 'BYOK');
    await ownKey(orgId, 'openai', '/v1');
    const embed = async (data: unknown[]) => {
      answer = { json: JSON.stringify({ data, usage: { prompt_tokens: 2 } }), events: [] };
      const body = { model: 'text-embedding-3-small', input: ['first', 'second'] };
      return gateway('/embeddings', { token: owner.accessToken }, body, asOrg(orgId));
    };
    const item = (index: number | undefined, value: number) => ({ object: 'embedding', index, embedding: [value] });
    for (const data of [
      [item(1, 0.25), item(1, 0.5)],
      [item(0, 0.25), item(2, 0.5)],
      [item(undefined, 0.25), item(0, 0.5)],
    ]) {
      const refused = await embed(data);
      expect(refused.status, JSON.stringify(data)).toBe(502);
      expect(refused.body).toMatchObject({ error: { type: 'api_error', code: 'upstream_error' } });
    }
    // Indexes out of order put each vector with its input; without indexes, the list's order is the inputs'.
    const vectors = (res: { body: { data: Array<{ index: number; embedding: number[] }> } }) =>
      res.body.data.map((d) => [d.index, d.embedding]);
    expect(vectors(await embed([item(1, 0.5), item(0, 0.25)]))).toEqual([
      [0, [0.25]],
      [1, [0.5]],
    ]);
    expect(vectors(await embed([item(undefined, 0.25), item(undefined, 0.5)]))).toEqual([
      [0, [0.25]],
      [1, [0.5]],
    ]);
  });

  it('openai, making more images than asked (a server that ignores `n`): the client gets the n it asked for, charged for those', async () => {
    const orgId = await strategyOrg(owner, 'BYOK');
    await ownKey(orgId, 'openai', '/v1');
    const model = await ownModel(orgId, {
      providerSlug: 'openai',
      providerModelId: 'dall-e-3',
      type: 'IMAGE',
      capabilities: ['images'],
    });
    const made = ['aW1hZ2Ux', 'aW1hZ2Uy', 'aW1hZ2Uz'];
    answer = { json: JSON.stringify({ created: 1, data: made.map((b64_json) => ({ b64_json })) }), events: [] };
    const res = await gateway(
      '/images/generations',
      { token: owner.accessToken },
      { model, prompt: 'a lighthouse', n: 1 },
      asOrg(orgId),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toEqual([{ b64_json: made[0] }]);
    const [log] = await usageOf(owner, orgId, 1);
    // 40,000 micro-USD an image: one image's cost.
    expect(log).toMatchObject({ model, status: 'success', totalCostMicros: 40_000 });
  });
});

/**
 * Bedrock's image models, called in this process (the local server has no Bedrock) with the SDK's
 * client stubbed: the catalogue's `nova-canvas` routes to Bedrock here.
 */
describe('a Bedrock image model', () => {
  const bedrock = mockClient(BedrockRuntimeClient);
  afterAll(() => bedrock.restore());
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;
  const inProcess = (user: SignedInUser) => ({
    principal: { kind: 'user' as const, userId: user.userId, groups: [], isPlatformAdmin: false },
    requestId: randomUUID(),
    signal: new AbortController().signal,
    resource: 'generation',
  });
  /** The call's answer as the gateway's handler writes it: its status and JSON (OpenAI's error shape for a failure). */
  async function answered(user: SignedInUser, body: ImagesBody) {
    try {
      const reply = await images(inProcess(user), body);
      await reply.after?.();
      return { status: 200, body: reply.json as Record<string, any> };
    } catch (error) {
      const { status, body } = openAiError(error);
      return { status, body: body as Record<string, any> };
    }
  }

  it('answering 200 without an image is the provider failing: a 502 logged as an error, its hold released, not a 200 with no image', async () => {
    const user = await signUpUser('gwnova');
    bedrock.reset();
    bedrock.on(InvokeModelCommand).resolves({ body: json({ images: [], error: null }) });
    const res = await answered(user, { model: 'nova-canvas', prompt: 'a lighthouse', n: 2 });
    expect(res).toMatchObject({ status: 502, body: { error: { type: 'api_error', code: 'upstream_error' } } });
    // Retried as a server failure.
    expect(bedrock.commandCalls(InvokeModelCommand)).toHaveLength(3);
    const [log] = await usageOf(user, user.personalOrgId, 1);
    expect(log).toMatchObject({ model: 'nova-canvas', status: 'error', metadata: { errorType: 'server' } });
    expect((await credits(user, user.personalOrgId)).reserved).toBe(0);
  });

  it('asked for a `style` it has not, or a `quality` it cannot make, refuses it with a 400 naming the field, before calling Bedrock', async () => {
    const user = await signUpUser('gwnovastyle');
    bedrock.reset();
    bedrock.on(InvokeModelCommand).resolves({ body: json({ images: ['bm92YQ=='], error: null }) });
    for (const [param, value] of [
      ['style', 'natural'],
      ['quality', 'low'],
    ] as const) {
      const res = await answered(user, { model: 'nova-canvas', prompt: 'a lighthouse', [param]: value });
      expect(res, `${param} ${value}`).toMatchObject({
        status: 400,
        body: { error: { type: 'invalid_request_error', param, message: expect.stringContaining(value) } },
      });
    }
    expect(bedrock.commandCalls(InvokeModelCommand)).toHaveLength(0);
    // `hd` is its premium quality.
    const hd = await answered(user, { model: 'nova-canvas', prompt: 'a lighthouse', quality: 'hd' });
    expect(hd).toMatchObject({ status: 200, body: { data: [{ b64_json: 'bm92YQ==' }] } });
    const sent = JSON.parse(bedrock.commandCalls(InvokeModelCommand)[0]!.args[0].input.body as string);
    expect(sent.imageGenerationConfig).toMatchObject({ quality: 'premium' });
  });
});

describe('a stream asked of a model that does not stream', () => {
  it('is refused before any provider is called (422), and the same call unstreamed is served', async () => {
    const { slug, modelId } = await platformModel();
    const { orgId } = await createTeam(owner);
    const chatOnly = `${modelId}-chat-only`;
    const created = await asPlatformAdmin(admin, 'PUT', `/v1/admin/models/${chatOnly}`, {
      providerSlug: slug,
      providerModelId: chatOnly,
      name: 'Chat only',
      type: 'TEXT',
      capabilities: ['chat'],
      pricing: { inputPerMTokMicros: 1_000_000, outputPerMTokMicros: 2_000_000 },
    });
    expect(created.status, JSON.stringify(created.body)).toBeLessThan(300);
    const streamed = await stream(owner.accessToken, { model: chatOnly, messages, stream: true }, undefined, asOrg(orgId));
    expect(streamed.status).toBe(422);
    const body = (await streamed.json()) as { error: { message: string } };
    expect(body.error.message).toContain(`${chatOnly} does not stream: send stream: false`);
    expect(fake().received()).toBe(0);
    const plain = await gateway('/chat/completions', { token: owner.accessToken }, { model: chatOnly, messages }, asOrg(orgId));
    expect(plain.status).toBe(200);
    await usageOf(owner, orgId, 1);

    // A model that streams, of a provider that does not.
    const still = `still-${slug}`;
    const provider = await asPlatformAdmin(admin, 'PUT', `/v1/admin/providers/${still}`, {
      displayName: 'No streams',
      adapter: 'openai',
      requiresApiKey: false,
      defaultBaseUrl: fake().baseUrl('openai'),
      supportsStreaming: false,
      capabilities: ['chat'],
      group: { name: 'Fake' },
    });
    expect(provider.status, JSON.stringify(provider.body)).toBeLessThan(300);
    const model = await asPlatformAdmin(admin, 'PUT', `/v1/admin/models/${still}-model`, {
      providerSlug: still,
      providerModelId: `${still}-model`,
      name: 'Streams, at a provider that does not',
      type: 'TEXT',
      pricing: { inputPerMTokMicros: 1_000_000, outputPerMTokMicros: 2_000_000 },
    });
    expect(model.body.capabilities).toContain('stream');
    const refused = await stream(owner.accessToken, { model: `${still}-model`, messages, stream: true }, undefined, asOrg(orgId));
    expect(refused.status).toBe(422);
    expect(fake().received()).toBe(1);
  });
});

describe('a call served by a fallback', () => {
  /** A call to a primary that fails three times as `failure` says, served by its rule's fallback. */
  async function servedByFallback(ruleName: string, failure: Behaviour) {
    await oneHour();
    const primary = await platformModel();
    const fallback = await platformModel();
    const { orgId } = await createTeam(owner);
    await fallbackRule(owner, orgId, ruleName, primary.modelId, fallback.modelId);
    fake().script(primary.providerModelId, times(3, failure));
    const res = await gateway(
      '/chat/completions',
      { token: owner.accessToken },
      { model: primary.modelId, messages },
      asOrg(orgId),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.model).toBe(fallback.modelId);
    return { primary, fallback, orgId };
  }

  it('counts the failures of the model it fell back from in that model’s metrics, and the call in the fallback’s', async () => {
    const { primary, fallback, orgId } = await servedByFallback('Primary throttled', { kind: 'fail', status: 429, delayMs: 20 });
    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({ model: fallback.modelId, status: 'success' });

    const served = await metricsOf(fallback.modelId, orgId);
    expect(served).toMatchObject({ calls: 1, errors: 0, timeouts: 0, costMicros: log!.totalCostMicros });
    expect(served.tokens.total).toBe(log!.inputTokens + log!.outputTokens);
    // The primary answered three times with a 429: one call of it that failed, after 60 ms or more of its time, no tokens.
    const passedOver = await metricsOf(primary.modelId, orgId);
    expect(passedOver).toMatchObject({
      calls: 1,
      errors: 1,
      timeouts: 0,
      errorRate: 1,
      errorTypes: { throttled: 1 },
      tokens: { input: 0, output: 0, total: 0 },
      costMicros: 0,
    });
    expect(passedOver.latencyMs.mean).toBeGreaterThanOrEqual(60);
  }, 30_000);

  it('gives the fallback its own latency, not the time the model it fell back from took', async () => {
    const { primary, fallback, orgId } = await servedByFallback('Primary slow and failing', {
      kind: 'fail',
      status: 500,
      delayMs: 700,
    });
    await usageOf(owner, orgId, 1);
    // The primary's three attempts took 2.1 s or more; the fallback answered at once (the fake's default).
    expect((await metricsOf(primary.modelId, orgId)).latencyMs.mean).toBeGreaterThanOrEqual(2_100);
    expect((await metricsOf(fallback.modelId, orgId)).latencyMs.mean).toBeLessThan(700);
  }, 30_000);
});

describe('a stream that breaks off after some chunks', () => {
  it.each<[string, Behaviour, string]>([
    ['drops its connection', { kind: 'drop', afterChunks: 2 }, 'network'],
    ['sends an error event', { kind: 'stream-error', afterChunks: 2 }, 'server'],
  ])(
    'when the provider %s: the client gets an error frame and [DONE]; one log, estimated, charged once',
    async (_, behaviour, errorType) => {
      await oneHour();
      const { modelId, providerModelId } = await platformModel();
      const { orgId } = await createTeam(owner);
      fake().script(providerModelId, behaviour);
      const before = await credits(owner, orgId);

      const response = await stream(owner.accessToken, { model: modelId, stream: true, messages }, undefined, asOrg(orgId));
      expect(response.status).toBe(200);
      const events = await readStream(response);
      expect(events.at(-1)!.data).toBe('[DONE]');
      const frames = events.slice(0, -1).map((e) => JSON.parse(e.data));
      // The role, the two words the provider sent, then the error in OpenAI's shape.
      expect(frames.map((f) => f.choices?.[0]?.delta?.content ?? '').join('')).toBe('Hello from ');
      expect(frames.at(-1)).toEqual({
        error: { message: expect.stringContaining('The stream broke off'), type: 'api_error', param: null, code: errorType },
      });
      expect(frames.some((f) => f.usage)).toBe(false);

      const [log] = await usageOf(owner, orgId, 1);
      expect(log).toMatchObject({
        model: modelId,
        status: 'error',
        metadata: { stream: true, usageEstimated: true, clientClosed: false, errorType, keySource: 'platform' },
      });
      expect(log!.outputTokens).toBeGreaterThan(0);
      expect(log!.credits).toBeGreaterThan(0);
      // Charged once, for what was delivered: one settlement of the hold, nothing left reserved.
      expect(await credits(owner, orgId)).toMatchObject({ available: before.available - log!.credits, reserved: 0 });
      expect((await callRows(orgId)).filter((row) => row.type === 'settle')).toMatchObject([{ amount: -log!.credits }]);
      expect((await api('GET', `/v1/orgs/${orgId}/usage`, { token: owner.accessToken })).body.items).toHaveLength(1);
      expect(await metricsOf(modelId, orgId)).toMatchObject({ calls: 1, errors: 1, errorTypes: { [errorType]: 1 } });
    },
    30_000,
  );
});

describe('a stream whose provider refuses the platform’s key after some chunks', () => {
  const account = 'arn:aws:iam::123456789012:role/platform-gateway';
  it.each([
    ['anthropic', 'permission_error', `User ${account} is not authorized to perform bedrock:InvokeModel`],
    ['openai', 'insufficient_quota', 'You exceeded your current quota for organization org-123456789012'],
  ] as const)(
    'tells the client the platform’s credentials were refused, not what %s said of the platform’s account (%s)',
    async (adapter, code, said) => {
      const { modelId, providerModelId } = await fakePlatformModel(admin, fake().baseUrl(adapter), {
        adapter,
        platformKey: `sk-platform-${randomUUID()}`,
      });
      const orgId = await strategyOrg(owner, 'PLATFORM');
      fake().script(providerModelId, { kind: 'stream-error', afterChunks: 2, code, message: said });

      const response = await stream(owner.accessToken, { model: modelId, stream: true, messages }, undefined, asOrg(orgId));
      expect(response.status).toBe(200);
      const events = await readStream(response);
      expect(events.at(-1)!.data).toBe('[DONE]');
      expect(JSON.parse(events.at(-2)!.data)).toEqual({
        error: {
          message: `The stream broke off: ${modelId}: the provider refused the platform's credentials`,
          type: 'api_error',
          param: null,
          code: 'auth',
        },
      });
    },
    30_000,
  );
});

describe('a provider that hangs', () => {
  it('times out at its key’s deadline: a 504, the hold released, one log and one metric with status timeout', async () => {
    await oneHour();
    const { modelId, providerModelId } = await platformModel({ timeoutMs: 1_000 });
    const { orgId } = await createTeam(owner);
    fake().script(providerModelId, times(3, { kind: 'hang' }));
    const before = await credits(owner, orgId);

    const started = Date.now();
    const res = await gateway('/chat/completions', { token: owner.accessToken }, { model: modelId, messages }, asOrg(orgId));
    expect(res.status, JSON.stringify(res.body)).toBe(504);
    expect(res.body).toEqual({
      error: {
        message: expect.stringContaining('did not answer within 1000 ms'),
        type: 'api_error',
        param: null,
        code: 'upstream_timeout',
      },
    });
    // Three attempts of a second each (and the waits between them), not the default minute each.
    expect(fake().received()).toBe(3);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.headers.get('x-route')).toMatch(
      new RegExp(`1:${modelId} timeout \\d+ms, 1:${modelId} timeout \\d+ms, 1:${modelId} timeout \\d+ms$`),
    );

    expect(await credits(owner, orgId)).toMatchObject({ available: before.available, reserved: 0 });
    const logs = (await api('GET', `/v1/orgs/${orgId}/usage`, { token: owner.accessToken })).body.items;
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ model: modelId, status: 'timeout', credits: 0, metadata: { errorType: 'timeout' } });
    expect(await metricsOf(modelId, orgId)).toMatchObject({ calls: 1, errors: 0, timeouts: 1, errorTypes: { timeout: 1 } });
  }, 30_000);
});

/**
 * The gateway's function in this process, given a Lambda context with little time left: the
 * chat route as functions/gateway/openai.ts serves it, its call carrying the function's deadline.
 */
const chatHandler = gatewayHandler([
  gatewayRoute(routes.createChatCompletion, async (input) =>
    chat(
      {
        principal: input.principal,
        orgId: input.event.headers?.['openai-organization'] || undefined,
        requestId: input.requestId,
        signal: input.signal,
        resource: routes.createChatCompletion.consumes,
        tags: routeTags(input.event.headers),
        deadline: input.deadline,
      },
      input.body,
    ),
  ),
]);

/** One invocation of `chatHandler` with `remainingMs` of the function's time left: its status, headers and body. */
async function invokeChat(
  token: string,
  orgId: string,
  body: unknown,
  remainingMs: number,
  reader: 'reads' | 'stalls' = 'reads',
) {
  const path = '/openai/v1/chat/completions';
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...asOrg(orgId) },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST', path }, requestId: randomUUID() },
  } as unknown as APIGatewayProxyEventV2;
  let prelude: ResponsePrelude | undefined;
  const written: Buffer[] = [];
  // A client that stalls takes the first write and never another: the stream stays full.
  const out = Object.assign(
    new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        written.push(Buffer.from(chunk));
        if (reader === 'reads') callback();
      },
    }),
    { setPrelude: (p: ResponsePrelude) => void (prelude ??= p) },
  );
  await chatHandler(event, out, localLambdaContext('gateway', 'us-east-1', remainingMs));
  const text = Buffer.concat(written).toString('utf8');
  return {
    status: prelude?.statusCode,
    headers: prelude?.headers ?? {},
    text,
    body: prelude?.headers?.['content-type']?.startsWith('text/event-stream') ? undefined : JSON.parse(text),
  };
}

describe('a call that runs out of its function’s time', () => {
  it.each([false, true])(
    'is answered 504 and recorded before the function ends (stream: %s): the hold released, one log and one metric',
    async (streamed) => {
      await oneHour();
      // No key deadline: a provider that hangs would have the default minute, far past the function's end.
      const { modelId, providerModelId } = await platformModel();
      // Created through the local server: this process reads the catalogue afresh to see it.
      forgetSnapshot();
      const { orgId } = await createTeam(owner);
      fake().script(providerModelId, times(3, { kind: 'hang' }));
      const before = await credits(owner, orgId);

      const started = Date.now();
      const res = await invokeChat(
        owner.accessToken,
        orgId,
        { model: modelId, messages, ...(streamed ? { stream: true } : {}) },
        DEADLINE_MARGIN_MS + 3_000,
      );
      const tookMs = Date.now() - started;
      expect(res.status, JSON.stringify(res.body)).toBe(504);
      expect(res.body).toEqual({
        error: {
          // Cut off at the deadline, not at a timeout of its key's or the default minute.
          message: expect.stringMatching(/did not finish within the \d+ ms the call had left$/),
          type: 'api_error',
          param: null,
          code: 'upstream_timeout',
        },
      });
      // One attempt, cut to the time left before the deadline (3 s, less the auth and admission);
      // answered and recorded within the function's time.
      expect(fake().received()).toBe(1);
      expect(tookMs).toBeGreaterThanOrEqual(2_900);
      expect(tookMs).toBeLessThan(DEADLINE_MARGIN_MS + 3_000);
      expect(res.headers['x-route']).toMatch(new RegExp(`1:${modelId} timeout \\d+ms$`));

      expect(await credits(owner, orgId)).toMatchObject({ available: before.available, reserved: 0 });
      const logs = (await api('GET', `/v1/orgs/${orgId}/usage`, { token: owner.accessToken })).body.items;
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatchObject({ model: modelId, status: 'timeout', credits: 0, metadata: { errorType: 'timeout' } });
      expect(await metricsOf(modelId, orgId)).toMatchObject({ calls: 1, errors: 0, timeouts: 1, errorTypes: { timeout: 1 } });
    },
    30_000,
  );
});

describe('a stream still running when its function’s time runs out', () => {
  it('is cut off at the deadline: an error frame and [DONE], the delivered part charged and logged as a timeout', async () => {
    await oneHour();
    const { modelId, providerModelId } = await platformModel();
    forgetSnapshot();
    const { orgId } = await createTeam(owner);
    // 80 words 100 ms apart: 8 s of a stream that never falls silent, against 2 s left before the deadline.
    const text = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
    fake().script(providerModelId, { kind: 'ok', text, chunkDelayMs: 100 });
    const before = await credits(owner, orgId);

    const started = Date.now();
    const res = await invokeChat(
      owner.accessToken,
      orgId,
      { model: modelId, messages, stream: true },
      DEADLINE_MARGIN_MS + 2_000,
    );
    const tookMs = Date.now() - started;
    expect(res.status).toBe(200);
    // Cut at the deadline, the call recorded within the margin, long before the provider would have finished.
    expect(tookMs).toBeGreaterThanOrEqual(1_900);
    expect(tookMs).toBeLessThan(5_000);
    const events = await readStream(new Response(res.text));
    expect(events.at(-1)!.data).toBe('[DONE]');
    const frames = events.slice(0, -1).map((e) => JSON.parse(e.data));
    const delivered = frames.map((f) => f.choices?.[0]?.delta?.content ?? '').join('');
    expect(delivered.length).toBeGreaterThan(0);
    expect(text.startsWith(delivered)).toBe(true);
    expect(delivered.length).toBeLessThan(text.length / 2);
    expect(frames.at(-1)).toEqual({
      error: {
        message: expect.stringMatching(/did not finish within the \d+ ms the call had left$/),
        type: 'api_error',
        param: null,
        code: 'timeout',
      },
    });

    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({
      model: modelId,
      status: 'timeout',
      metadata: { stream: true, usageEstimated: true, clientClosed: false, errorType: 'timeout' },
    });
    expect(log!.outputTokens).toBeGreaterThan(0);
    expect(log!.credits).toBeGreaterThan(0);
    expect(await credits(owner, orgId)).toMatchObject({ available: before.available - log!.credits, reserved: 0 });
    expect(await metricsOf(modelId, orgId)).toMatchObject({ calls: 1, timeouts: 1, errorTypes: { timeout: 1 } });
  }, 30_000);
});

describe('a client that stops reading', () => {
  it.each([
    ['streamed', true, { metadata: { stream: true, usageEstimated: true, clientClosed: true } }],
    ['not streamed', false, { status: 'success' }],
  ] as const)(
    'is given up at the deadline (%s): the call charged and logged before the function’s time runs out',
    async (_, streamed, logged) => {
      await oneHour();
      const { modelId, providerModelId } = await platformModel();
      forgetSnapshot();
      const { orgId } = await createTeam(owner);
      fake().script(providerModelId, { kind: 'ok', text: Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ') });
      const before = await credits(owner, orgId);

      const started = Date.now();
      const body = { model: modelId, messages, ...(streamed ? { stream: true } : {}) };
      const res = await invokeChat(owner.accessToken, orgId, body, DEADLINE_MARGIN_MS + 2_000, 'stalls');
      // Given up at the deadline (2 s), within the margin kept to record the call.
      expect(Date.now() - started).toBeLessThan(DEADLINE_MARGIN_MS);
      expect(res.status).toBe(200);

      const [log] = await usageOf(owner, orgId, 1);
      expect(log).toMatchObject({ model: modelId, ...logged });
      expect(log!.credits).toBeGreaterThan(0);
      expect(await credits(owner, orgId)).toMatchObject({ available: before.available - log!.credits, reserved: 0 });
    },
    30_000,
  );
});
