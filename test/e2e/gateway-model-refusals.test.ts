import { randomUUID } from 'node:crypto';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionBody, EmbeddingsBody, ImagesBody } from '@platform/domain/gateway/openai';
import { chat, embeddings, images } from '@platform/domain/gateway/service';
import { openAiError } from '@platform/http/gateway';
import { api, signUpUser, type SignedInUser } from '../helpers/api.ts';
import { times } from '../helpers/fake-provider.ts';
import { gateway, readStream, stream, strategyOrg, usageOf } from '../helpers/gateway.ts';
import { useFakeProvider } from '../helpers/use-fake-provider.ts';

/**
 * What a model cannot make or take (an image size or style SD3 has not, `dimensions` of Titan v1's
 * vectors of one length; in a chat, an image by URL or a BMP for Bedrock's Converse, only blank
 * messages) is that model's limit, not the request's fault: it is refused before anything is
 * sent, the call moves on to a candidate that can make it, and the refusal is a 400 naming the field
 * only when every candidate refused. A refusal spends none of the key's quota, which counts provider
 * calls. Over HTTP, the refusing models are Bedrock's (refused in the server before any AWS call) and
 * the fallbacks the organization's own OpenAI key at the fake provider; the quota, in this process,
 * with Bedrock's SDK stubbed.
 */
const fake = useFakeProvider();
const bedrock = mockClient(BedrockRuntimeClient);
afterAll(() => bedrock.restore());
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;

let owner: SignedInUser;
beforeAll(async () => {
  owner = await signUpUser('gwrefusal');
});
const asOrg = (orgId: string) => ({ 'openai-organization': orgId });

async function ownKey(orgId: string, providerSlug: 'bedrock' | 'openai', quota: { dailyQuota?: number } = {}) {
  const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
    token: owner.accessToken,
    body:
      providerSlug === 'bedrock'
        ? { label: 'bedrock', providerSlug, key: `bedrock-api-key-${randomUUID()}`, ...quota }
        : { label: 'openai', providerSlug, key: `sk-byok-${randomUUID().replace(/-/g, '')}`, baseUrl: fake().baseUrl('openai') },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
}

type Kind = 'IMAGE' | 'EMBED' | 'CHAT';

/** An organization's own model: images, or embeddings or chat (a TEXT model). */
async function ownModel(orgId: string, providerSlug: 'bedrock' | 'openai', providerModelId: string, kind: Kind) {
  const made = await api('POST', `/v1/orgs/${orgId}/models`, {
    token: owner.accessToken,
    body: {
      providerSlug,
      providerModelId,
      name: `${providerModelId} (own key)`,
      type: kind === 'IMAGE' ? 'IMAGE' : 'TEXT',
      capabilities: kind === 'IMAGE' ? ['images'] : kind === 'EMBED' ? ['embeddings'] : ['chat', 'stream'],
      pricing:
        kind === 'IMAGE'
          ? { inputPerMTokMicros: 0, outputPerMTokMicros: 0, perImageMicros: 40_000 }
          : { inputPerMTokMicros: 100_000, outputPerMTokMicros: kind === 'CHAT' ? 200_000 : 0 },
    },
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  return made.body.modelId as string;
}

async function rule(orgId: string, modelType: 'IMAGE' | 'TEXT', model: string, fallback: string) {
  const created = await api('POST', `/v1/orgs/${orgId}/routing-rules`, {
    token: owner.accessToken,
    body: {
      name: `refusal-${randomUUID().slice(0, 6)}`,
      priority: 1,
      modelType,
      conditions: { models: [model] },
      targets: [{ modelId: model, weight: 1 }],
      fallbacks: [fallback],
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
}

/** A BYOK organization with its own Bedrock and OpenAI keys, `primary` (Bedrock) falling back to `fallback` (OpenAI). */
async function routed(kind: Kind, primary: string, fallback: string) {
  const orgId = await strategyOrg(owner, 'BYOK');
  await ownKey(orgId, 'bedrock');
  await ownKey(orgId, 'openai');
  const first = await ownModel(orgId, 'bedrock', primary, kind);
  const second = await ownModel(orgId, 'openai', fallback, kind);
  await rule(orgId, kind === 'IMAGE' ? 'IMAGE' : 'TEXT', first, second);
  return { orgId, first, second };
}

describe('what a model cannot make, with a fallback that can', () => {
  it.each([
    ['size', { size: '512x512' }],
    ['style', { style: 'vivid' }],
  ] as const)(
    'an image %s SD3 cannot make is served by the fallback that makes it; x-route and the usage log show the refusal',
    async (_, option) => {
      const { orgId, first, second } = await routed('IMAGE', 'stability.sd3-large-v1:0', 'dall-e-3');
      const res = await gateway(
        '/images/generations',
        { token: owner.accessToken },
        { model: first, prompt: 'a lighthouse', ...option },
        asOrg(orgId),
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.data).toHaveLength(1);
      expect(fake().requests.map((r) => [r.operation, r.model, r.body[Object.keys(option)[0]!]])).toEqual([
        ['images', 'dall-e-3', Object.values(option)[0]],
      ]);
      expect(res.headers.get('x-route')).toMatch(new RegExp(`1:${first} unsupported, 2:${second} ok \\d+ms$`));
      const [log] = await usageOf(owner, orgId, 1);
      expect(log).toMatchObject({
        model: second,
        status: 'success',
        metadata: { route: expect.stringContaining(`1:${first} unsupported`) },
      });
    },
  );

  it('`dimensions` Titan v1 cannot make are served by the fallback that makes them', async () => {
    const { orgId, first, second } = await routed('EMBED', 'amazon.titan-embed-text-v1', 'text-embedding-3-small');
    const res = await gateway(
      '/embeddings',
      { token: owner.accessToken },
      { model: first, input: 'hello', dimensions: 16 },
      asOrg(orgId),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data[0].embedding).toHaveLength(16);
    expect(res.headers.get('x-route')).toMatch(new RegExp(`1:${first} unsupported, 2:${second} ok \\d+ms$`));
  });
});

const CLAUDE_ON_BEDROCK = 'anthropic.claude-3-haiku-20240307-v1:0';
/** A user's message with an image: `url` as OpenAI's models take it (an https URL they fetch) or any data URL. */
const withImage = (url: string) => [
  {
    role: 'user',
    content: [
      { type: 'text', text: 'What is in this picture?' },
      { type: 'image_url', image_url: { url } },
    ],
  },
];

describe('what a model cannot take of a chat, with a fallback that can', () => {
  it.each([
    ['an image by URL', false, withImage('https://example.com/cat.png')],
    ['a BMP image', true, withImage('data:image/bmp;base64,Qk0=')],
    ['only blank messages', true, [{ role: 'user', content: ' ' }]],
  ] as const)(
    '%s Bedrock cannot take (streamed: %s) is served by the fallback that takes it; x-route shows the refusal',
    async (_, streamed, messages) => {
      const { orgId, first, second } = await routed('CHAT', CLAUDE_ON_BEDROCK, 'gpt-4o-mini');
      const body = { model: first, messages, stream: streamed };
      const res = streamed
        ? await stream(owner.accessToken, body, undefined, asOrg(orgId))
        : await gateway('/chat/completions', { token: owner.accessToken }, body, asOrg(orgId));
      expect(res.status).toBe(200);
      if (streamed) {
        const events = await readStream(res as Response);
        expect(events.at(-1)?.data).toBe('[DONE]');
        expect(events.some((event) => event.data.includes('"error"'))).toBe(false);
      } else expect((res as { body: any }).body.choices[0].message.content).toBeTruthy();
      expect(fake().requests.map((r) => [r.operation, r.model, r.body.messages])).toEqual([
        [streamed ? 'stream' : 'chat', 'gpt-4o-mini', messages],
      ]);
      expect(res.headers.get('x-route')).toMatch(new RegExp(`1:${first} unsupported, 2:${second} ok \\d+ms$`));
      const [log] = await usageOf(owner, orgId, 1);
      expect(log).toMatchObject({ model: second, status: 'success' });
    },
  );

  it('no candidate taking it: a 400 naming messages, with the first refusal; x-route shows each', async () => {
    const orgId = await strategyOrg(owner, 'BYOK');
    await ownKey(orgId, 'bedrock');
    const claude = await ownModel(orgId, 'bedrock', CLAUDE_ON_BEDROCK, 'CHAT');
    const nova = await ownModel(orgId, 'bedrock', 'amazon.nova-lite-v1:0', 'CHAT');
    await rule(orgId, 'TEXT', claude, nova);
    const res = await gateway(
      '/chat/completions',
      { token: owner.accessToken },
      { model: claude, messages: withImage('https://example.com/cat.png') },
      asOrg(orgId),
    );
    expect(res).toMatchObject({
      status: 400,
      body: {
        error: { type: 'invalid_request_error', param: 'messages', message: expect.stringContaining('base64 data URLs') },
      },
    });
    expect(res.headers.get('x-route')).toMatch(new RegExp(`1:${claude} unsupported, 2:${nova} unsupported$`));
  });
});

describe('what no candidate can make, or a provider failing', () => {
  it('every candidate refusing: a 400 naming the field, with the first refusal; x-route shows each', async () => {
    const orgId = await strategyOrg(owner, 'BYOK');
    await ownKey(orgId, 'bedrock');
    const sd3 = await ownModel(orgId, 'bedrock', 'stability.sd3-large-v1:0', 'IMAGE');
    const nova = await ownModel(orgId, 'bedrock', 'amazon.nova-canvas-v1:0', 'IMAGE');
    await rule(orgId, 'IMAGE', sd3, nova);
    const res = await gateway(
      '/images/generations',
      { token: owner.accessToken },
      { model: sd3, prompt: 'a lighthouse', style: 'vivid' },
      asOrg(orgId),
    );
    expect(res).toMatchObject({
      status: 400,
      body: {
        error: { type: 'invalid_request_error', param: 'style', message: expect.stringContaining('stability.sd3-large-v1:0') },
      },
    });
    expect(res.headers.get('x-route')).toMatch(new RegExp(`1:${sd3} unsupported, 2:${nova} unsupported$`));
    const [log] = await usageOf(owner, orgId, 1);
    // The usage log names the model whose refusal is answered: the first.
    expect(log).toMatchObject({ model: sd3, status: 'error', totalCostMicros: 0, metadata: { errorType: 'invalid' } });
  });

  it('a primary failing (5xx) then a fallback that cannot make the size: the providers’ failure (502), not a 400', async () => {
    const orgId = await strategyOrg(owner, 'BYOK');
    await ownKey(orgId, 'bedrock');
    await ownKey(orgId, 'openai');
    const dalle = await ownModel(orgId, 'openai', 'dall-e-3', 'IMAGE');
    const sd3 = await ownModel(orgId, 'bedrock', 'stability.sd3-large-v1:0', 'IMAGE');
    await rule(orgId, 'IMAGE', dalle, sd3);
    fake().script('dall-e-3', times(3, { kind: 'fail', status: 500 }));
    // 256x256 (DALL·E 2's) is no size SD3 makes.
    const small = await gateway(
      '/images/generations',
      { token: owner.accessToken },
      { model: dalle, prompt: 'a lighthouse', size: '256x256' },
      asOrg(orgId),
    );
    expect(small, JSON.stringify(small.body)).toMatchObject({ status: 502, body: { error: { type: 'api_error' } } });
    expect(small.headers.get('x-route')).toMatch(new RegExp(`1:${dalle} server/500 \\d+ms.*, 2:${sd3} unsupported$`));
    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({
      model: dalle,
      status: 'error',
      metadata: { errorType: 'server' },
    });
  });
});

describe('what the ready candidates cannot make, with a cooling one that can', () => {
  it('a primary cooling after its 5xx, and a fallback that cannot make the size: the primary is tried after the refusal and serves it', async () => {
    const orgId = await strategyOrg(owner, 'BYOK');
    await ownKey(orgId, 'bedrock');
    await ownKey(orgId, 'openai');
    const dalle = await ownModel(orgId, 'openai', 'dall-e-3', 'IMAGE');
    const sd3 = await ownModel(orgId, 'bedrock', 'stability.sd3-large-v1:0', 'IMAGE');
    await rule(orgId, 'IMAGE', dalle, sd3);
    fake().script('dall-e-3', times(3, { kind: 'fail', status: 500 }));
    const call = () =>
      gateway(
        '/images/generations',
        { token: owner.accessToken },
        { model: dalle, prompt: 'a lighthouse', size: '256x256' },
        asOrg(orgId),
      );
    // Three 5xx cool DALL·E 3 down.
    expect((await call()).status).toBe(502);
    const res = await call();
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toHaveLength(1);
    expect(res.headers.get('x-route')).toMatch(new RegExp(`1:${dalle} cooling, 2:${sd3} unsupported, 1:${dalle} ok \\d+ms$`));
    const logs = await usageOf(owner, orgId, 2);
    expect(logs.find((log) => log.status === 'success')).toMatchObject({ model: dalle });
  });
});

describe('an own key refused, then a platform fallback that cannot make it (HYBRID)', () => {
  it('the answer is the provider’s refusal of the own key, which is the organization’s to fix, not the platform’s credentials', async () => {
    const orgId = await strategyOrg(owner, 'HYBRID');
    await ownKey(orgId, 'openai');
    const dalle = await ownModel(orgId, 'openai', 'dall-e-3', 'IMAGE');
    // The catalogue's Nova Canvas, on the platform's key: no style it makes is `vivid`.
    await rule(orgId, 'IMAGE', dalle, 'nova-canvas');
    fake().script('dall-e-3', { kind: 'fail', status: 401, message: 'Incorrect API key provided' });
    const res = await gateway(
      '/images/generations',
      { token: owner.accessToken },
      { model: dalle, prompt: 'a lighthouse', style: 'vivid' },
      asOrg(orgId),
    );
    expect(res, JSON.stringify(res.body)).toMatchObject({
      status: 502,
      body: { error: { type: 'api_error', message: expect.stringContaining('Incorrect API key provided') } },
    });
    expect(res.body.error.message).not.toContain("the platform's credentials");
    expect(res.headers.get('x-route')).toMatch(new RegExp(`1:${dalle} auth/401 \\d+ms, 2:nova-canvas unsupported$`));
    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({ model: dalle, status: 'error', metadata: { errorType: 'auth', keySource: 'byok' } });
  });
});

describe("a key's quota counts provider calls", () => {
  const inProcess = (orgId: string) => ({
    principal: { kind: 'user' as const, userId: owner.userId, groups: [], isPlatformAdmin: false },
    orgId,
    requestId: randomUUID(),
    signal: new AbortController().signal,
    resource: 'generation',
  });
  async function status(run: () => Promise<{ sse?: AsyncIterable<string>; after?: () => Promise<void> }>) {
    try {
      const reply = await run();
      for await (const frame of reply.sse ?? []) expect(frame).not.toContain('"error"');
      await reply.after?.();
      return 200;
    } catch (error) {
      return openAiError(error).status;
    }
  }

  it.each([
    ['embeddings', 'amazon.titan-embed-text-v1', 'EMBED'],
    ['images', 'stability.sd3-large-v1:0', 'IMAGE'],
  ] as const)(
    '%s: a refusal of what the model cannot make spends none of it; the next call is served',
    async (_, model, kind) => {
      const orgId = await strategyOrg(owner, 'BYOK');
      await ownKey(orgId, 'bedrock', { dailyQuota: 1 });
      const modelId = await ownModel(orgId, 'bedrock', model, kind);
      bedrock.reset();
      bedrock
        .on(InvokeModelCommand)
        .resolves({ body: json({ embedding: [0.1, 0.2], inputTextTokenCount: 1, images: ['c2Qz'], finish_reasons: [null] }) });
      const call = (refused: boolean) =>
        kind === 'EMBED'
          ? embeddings(inProcess(orgId), {
              model: modelId,
              input: 'hello',
              ...(refused ? { dimensions: 256 } : {}),
            } as EmbeddingsBody)
          : images(inProcess(orgId), {
              model: modelId,
              prompt: 'a lighthouse',
              ...(refused ? { size: '512x512' } : {}),
            } as ImagesBody);
      expect(await status(() => call(true))).toBe(400);
      expect(bedrock.commandCalls(InvokeModelCommand)).toHaveLength(0);
      // The key's one provider call of the day is still unused.
      expect(await status(() => call(false))).toBe(200);
      expect(bedrock.commandCalls(InvokeModelCommand)).toHaveLength(1);
      expect(await status(() => call(false))).toBe(429);
    },
  );

  it.each([false, true])(
    'chat (streamed: %s): a refusal of what the model cannot take spends none of it; the next call is served',
    async (streamed) => {
      const orgId = await strategyOrg(owner, 'BYOK');
      await ownKey(orgId, 'bedrock', { dailyQuota: 1 });
      const modelId = await ownModel(orgId, 'bedrock', CLAUDE_ON_BEDROCK, 'CHAT');
      bedrock.reset();
      const usage = { inputTokens: 3, outputTokens: 1, totalTokens: 4 };
      bedrock
        .on(ConverseCommand)
        .resolves({ output: { message: { role: 'assistant', content: [{ text: 'Hi' }] } }, stopReason: 'end_turn', usage });
      // A new stream for each call: one is read once.
      bedrock.on(ConverseStreamCommand).callsFake(() => ({
        stream: (async function* () {
          yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hi' } } };
          yield { messageStop: { stopReason: 'end_turn' } };
          yield { metadata: { usage, metrics: { latencyMs: 1 } } };
        })(),
      }));
      const sent = () => (streamed ? bedrock.commandCalls(ConverseStreamCommand) : bedrock.commandCalls(ConverseCommand)).length;
      const call = (refused: boolean) =>
        chat(inProcess(orgId), {
          model: modelId,
          messages: refused ? withImage('https://example.com/cat.png') : [{ role: 'user', content: 'Hello' }],
          stream: streamed,
        } as ChatCompletionBody);
      expect(await status(() => call(true))).toBe(400);
      expect(sent()).toBe(0);
      // The key's one provider call of the day is still unused.
      expect(await status(() => call(false))).toBe(200);
      expect(sent()).toBe(1);
      expect(await status(() => call(false))).toBe(429);
    },
  );
});
