/**
 * What every HTTP adapter must do, proved against the fake provider in each dialect: answers and
 * usage, the key only in its header, every failure classified, timeouts, cancellation, and streams
 * that drop, stop short or fail mid-way.
 */
import { describe, expect, it, vi } from 'vitest';
import { adapter as anthropic } from '@platform/domain/gateway/adapters/anthropic';
import { adapter as google } from '@platform/domain/gateway/adapters/google';
import type { HttpCall } from '@platform/domain/gateway/adapters/http';
import { adapter as openai } from '@platform/domain/gateway/adapters/openai';
import { estimateTextTokens, estimateTokens } from '@platform/domain/gateway/pricing';
import { ProviderError } from '@platform/domain/gateway/types';
import type { Adapter, ChatChunk, ChatRequest, Target } from '@platform/domain/gateway/types';
import { FAKE_TEXT, times } from '../../helpers/fake-provider.ts';
import type { Dialect } from '../../helpers/fake-provider.ts';
import { startFakeProvider } from '../../helpers/fake-provider.ts';
import { useFakeProvider } from '../../helpers/use-fake-provider.ts';

/**
 * OpenAI's own API played by the fake: while `openAiApi.servedAt` is set, calls to api.openai.com
 * go there instead (every other call is untouched), so a test sees what OpenAI itself would receive.
 */
const openAiApi = vi.hoisted(() => ({ servedAt: '' }));
vi.mock('@platform/domain/gateway/adapters/http', async (importOriginal) => {
  const http = await importOriginal<typeof import('@platform/domain/gateway/adapters/http')>();
  const served = (call: HttpCall): HttpCall =>
    openAiApi.servedAt ? { ...call, url: call.url.replace('https://api.openai.com/v1', openAiApi.servedAt) } : call;
  return {
    ...http,
    postJson: (call: HttpCall, ...rest: unknown[]) => http.postJson(served(call), ...(rest as [])),
    postForEvents: (call: HttpCall, ...rest: unknown[]) => http.postForEvents(served(call), ...(rest as [])),
  };
});

const KEY = 'sk-test-0123456789abcdef';
const request: ChatRequest = {
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hello.' },
  ],
  maxTokens: 50,
};

const dialects: Array<{ dialect: Dialect; adapter: Adapter; keyHeader: string; keyValue: string }> = [
  { dialect: 'openai', adapter: openai, keyHeader: 'authorization', keyValue: `Bearer ${KEY}` },
  { dialect: 'anthropic', adapter: anthropic, keyHeader: 'x-api-key', keyValue: KEY },
  { dialect: 'gemini', adapter: google, keyHeader: 'x-goog-api-key', keyValue: KEY },
];

async function read(stream: AsyncIterable<ChatChunk>) {
  const chunks: ChatChunk[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
    return { chunks, text: deltas(chunks) };
  } catch (error) {
    return { chunks, text: deltas(chunks), error: error as ProviderError };
  }
}

function deltas(chunks: ChatChunk[]): string {
  return chunks.map((chunk) => (chunk.type === 'delta' ? chunk.text : '')).join('');
}

const fake = useFakeProvider();

describe.each(dialects)('the $dialect adapter', ({ dialect, adapter, keyHeader, keyValue }) => {
  const target = (model = 'model-1'): Target => ({
    adapter: adapter.kind,
    providerSlug: dialect,
    providerModelId: model,
    apiKey: KEY,
    baseUrl: fake().baseUrl(dialect),
  });

  it('answers with the text and the provider’s token counts, the key only in its header', async () => {
    fake().script('model-1', { kind: 'ok', text: 'Hi there, friend.', inputTokens: 21, outputTokens: 5 });
    const result = await adapter.chat(target(), request);
    expect(result).toEqual({ text: 'Hi there, friend.', finishReason: 'stop', usage: { inputTokens: 21, outputTokens: 5 } });
    const [sent] = fake().requests;
    expect(sent).toMatchObject({ dialect, operation: 'chat', model: 'model-1' });
    expect(sent!.headers[keyHeader]).toBe(keyValue);
    expect(sent!.path).not.toContain(KEY);
  });

  it('streams the deltas, then one done with the usage', async () => {
    fake().script('model-1', { kind: 'ok', inputTokens: 7 });
    const { chunks, text, error } = await read(adapter.chatStream(target(), request));
    expect(error).toBeUndefined();
    expect(text).toBe(FAKE_TEXT);
    expect(chunks.filter((chunk) => chunk.type === 'delta').length).toBe(FAKE_TEXT.split(' ').length);
    expect(chunks.at(-1)).toEqual({ type: 'done', finishReason: 'stop', usage: { inputTokens: 7, outputTokens: 5 } });
    expect(fake().requests[0]!.operation).toBe('stream');
  });

  it('classifies failures: 429 throttled with its Retry-After, 5xx server, 401 auth, 400 invalid', async () => {
    fake().script(
      'model-1',
      { kind: 'fail', status: 429, retryAfter: 2 },
      { kind: 'fail', status: 503 },
      { kind: 'fail', status: 500 },
      { kind: 'fail', status: 401 },
      { kind: 'fail', status: 400 },
    );
    const outcomes = [];
    for (let i = 0; i < 5; i++) {
      const error = (await adapter.chat(target(), request).catch((e: unknown) => e)) as ProviderError;
      expect(error).toBeInstanceOf(ProviderError);
      outcomes.push([error.kind, error.options.status, error.retryable, error.options.retryAfterMs]);
    }
    expect(outcomes).toEqual([
      ['throttled', 429, true, 2_000],
      ['server', 503, true, undefined],
      ['server', 500, true, undefined],
      ['auth', 401, false, undefined],
      ['invalid', 400, false, undefined],
    ]);
  });

  it('never repeats the key, even when the provider echoes it', async () => {
    fake().script('model-1', { kind: 'fail', status: 401, message: `Incorrect API key provided: ${KEY}` });
    const error = (await adapter.chat(target(), request).catch((e: unknown) => e)) as ProviderError;
    expect(error.kind).toBe('auth');
    expect(error.message).toContain('[redacted]');
    expect(JSON.stringify({ message: error.message, stack: error.stack, options: error.options })).not.toContain(KEY);
  });

  it('times out a slow answer at timeoutMs', async () => {
    fake().script('model-1', { kind: 'ok', delayMs: 2_000 });
    const started = Date.now();
    await expect(adapter.chat(target(), request, { timeoutMs: 50 })).rejects.toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('times out a stream that never starts, and one that goes silent', async () => {
    fake().script('model-1', { kind: 'hang' });
    const never = await read(adapter.chatStream(target(), request, { timeoutMs: 50 }));
    expect(never.error).toMatchObject({ kind: 'timeout' });
    // The first chunk comes at once (the timeout leaves a loaded machine time to deliver it), then a second of silence.
    fake().script('model-1', { kind: 'ok', chunkDelayMs: 1_000 });
    const silent = await read(adapter.chatStream(target(), request, { timeoutMs: 500 }));
    expect(silent.text).toBe('Hello ');
    expect(silent.error).toMatchObject({ kind: 'timeout' });
  });

  it('bounds each silence of a stream, not its whole length', async () => {
    // Five chunks 100 ms apart take 500 ms, more than the timeout: each gap is well within it, even on a loaded machine.
    fake().script('model-1', { kind: 'ok', chunkDelayMs: 100 });
    const slow = await read(adapter.chatStream(target(), request, { timeoutMs: 400 }));
    expect(slow.error).toBeUndefined();
    expect(slow.text).toBe(FAKE_TEXT);
  });

  it('stops when the caller aborts, as a cancelled call', async () => {
    fake().script('model-1', { kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const error = (await adapter
      .chat(target(), request, { signal: controller.signal })
      .catch((e: unknown) => e)) as ProviderError;
    expect(error).toMatchObject({ kind: 'network', message: expect.stringContaining('cancelled') });
  });

  it('raises network after delivering what it got when the stream drops mid-way', async () => {
    fake().script('model-1', { kind: 'drop', afterChunks: 2 });
    const dropped = await read(adapter.chatStream(target(), request));
    expect(dropped.text).toBe('Hello from ');
    expect(dropped.chunks.some((chunk) => chunk.type === 'done')).toBe(false);
    expect(dropped.error).toMatchObject({ kind: 'network' });
  });

  it('raises network when the stream ends cleanly without its final usage', async () => {
    fake().script('model-1', { kind: 'truncate', afterChunks: 3 });
    const truncated = await read(adapter.chatStream(target(), request));
    expect(truncated.text).toBe('Hello from the ');
    expect(truncated.error).toMatchObject({ kind: 'network' });
  });

  it('raises the provider’s error sent in the middle of a stream', async () => {
    fake().script('model-1', { kind: 'stream-error', afterChunks: 1 });
    const failed = await read(adapter.chatStream(target(), request));
    expect(failed.text).toBe('Hello ');
    expect(failed.error).toMatchObject({ kind: 'server' });
  });

  it('never repeats the key in an error sent in the middle of a stream', async () => {
    fake().script('model-1', { kind: 'stream-error', afterChunks: 1, message: `Key ${KEY} is not allowed to do this` });
    const failed = await read(adapter.chatStream(target(), request));
    expect(failed.error).toMatchObject({ kind: 'server', message: expect.stringContaining('[redacted]') });
    expect(failed.error!.message).not.toContain(KEY);
  });

  it('fails a refused connection as network', async () => {
    const closed = await startFakeProvider();
    const baseUrl = closed.baseUrl(dialect);
    await closed.close();
    await expect(adapter.chat({ ...target(), baseUrl }, request)).rejects.toMatchObject({ kind: 'network' });
  });

  it('fails the stream’s HTTP errors before any chunk, classified the same way', async () => {
    fake().script('model-1', times(1, { kind: 'fail', status: 429, retryAfter: 1 }));
    const throttled = await read(adapter.chatStream(target(), request));
    expect(throttled.chunks).toEqual([]);
    expect(throttled.error).toMatchObject({ kind: 'throttled', options: { status: 429, retryAfterMs: 1_000 } });
  });
});

describe('the openai adapter, against a compatible server that ignores include_usage', () => {
  const compatible = (): Target => ({
    adapter: 'openai',
    providerSlug: 'openai',
    providerModelId: 'model-1',
    apiKey: KEY,
    baseUrl: fake().baseUrl('openai'),
  });

  it('meters a complete stream without usage by the estimate, as without streaming', async () => {
    fake().script('model-1', { kind: 'ok', text: 'Hi there, friend.', omitUsage: true });
    const streamed = await read(openai.chatStream(compatible(), request));
    expect(streamed.error).toBeUndefined();
    expect(streamed.text).toBe('Hi there, friend.');
    const estimate = { inputTokens: estimateTokens(request), outputTokens: estimateTextTokens('Hi there, friend.') };
    expect(streamed.chunks.at(-1)).toEqual({ type: 'done', finishReason: 'stop', usage: estimate });
  });

  it('still raises network for a stream that stops short, without its finish', async () => {
    fake().script('model-1', { kind: 'truncate', afterChunks: 2 });
    expect((await read(openai.chatStream(compatible(), request))).error).toMatchObject({ kind: 'network' });
  });
});

describe('translations for what OpenAI takes and the other dialects refuse', () => {
  const target = (dialect: Dialect, extra: Partial<Target> = {}): Target => ({
    adapter: dialect === 'gemini' ? 'google' : dialect,
    providerSlug: dialect === 'gemini' ? 'google' : dialect,
    providerModelId: 'model-1',
    apiKey: KEY,
    baseUrl: fake().baseUrl(dialect),
    ...extra,
  });
  const sentBody = () => fake().requests[0]!.body;

  it('Anthropic gets turns that alternate and start with the user: same-role messages merged, blank text dropped first', async () => {
    await anthropic.chat(target('anthropic'), {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'assistant', content: 'Hello! How can I help?' },
        { role: 'user', content: 'Here is a document: …' },
        { role: 'assistant', content: '' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Summarise it.' },
            { type: 'text', text: '' },
          ],
        },
      ],
    });
    expect(sentBody()).toMatchObject({
      system: 'Be brief.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: '(conversation start)' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Hello! How can I help?' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Here is a document: …' },
            { type: 'text', text: 'Summarise it.' },
          ],
        },
      ],
    });
  });

  it('Anthropic gets a request that is only a system prompt as the user’s turn', async () => {
    await anthropic.chat(target('anthropic'), { messages: [{ role: 'system', content: 'Write a haiku about the sea.' }] });
    expect(sentBody().messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Write a haiku about the sea.' }] }]);
    expect(sentBody().system).toBeUndefined();
  });

  it('Anthropic gets a temperature of at most 1 (OpenAI’s range goes to 2), and image/jpg as image/jpeg', async () => {
    await anthropic.chat(target('anthropic'), {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/jpg;base64,/9j/4AAQ' } },
          ],
        },
      ],
      temperature: 1.5,
    });
    expect(sentBody().temperature).toBe(1);
    expect(sentBody().messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
        ],
      },
    ]);
  });

  it('Anthropic gets no whitespace-only stop sequence (it refuses the call for one), and none at all when none is left', async () => {
    await anthropic.chat(target('anthropic'), { messages: [{ role: 'user', content: 'One line' }], stop: ['\n', 'END'] });
    await anthropic.chat(target('anthropic'), { messages: [{ role: 'user', content: 'One line' }], stop: ['\n', ' \t'] });
    expect(fake().requests.map(({ body }) => body.stop_sequences)).toEqual([['END'], undefined]);
  });

  it('Gemini gets no empty text part and never empty contents: blank parts dropped, a lone system prompt as the user’s turn', async () => {
    const conversation: ChatRequest = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: '' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Still there?' },
            { type: 'text', text: ' ' },
          ],
        },
      ],
      stop: ['\n'],
    };
    const systemOnly: ChatRequest = { messages: [{ role: 'system', content: 'Write a haiku about the sea.' }] };
    await google.chat(target('gemini'), conversation);
    await read(google.chatStream(target('gemini'), conversation));
    await google.chat(target('gemini'), systemOnly);
    await read(google.chatStream(target('gemini'), systemOnly));
    const [sent, streamed, lone, loneStreamed] = fake().requests.map(({ body }) => body);
    expect(sent).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hi' }, { text: 'Still there?' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      // Gemini takes a whitespace stop sequence: only Anthropic's models refuse one.
      generationConfig: { stopSequences: ['\n'] },
    });
    expect(streamed).toEqual(sent);
    expect(lone).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Write a haiku about the sea.' }] }],
      generationConfig: {},
    });
    expect(loneStreamed).toEqual(lone);
  });

  it('an OpenAI-compatible server gets an image’s detail as the client asked; the others have no such field', async () => {
    const { toChatRequest } = await import('@platform/domain/gateway/openai');
    const request = toChatRequest(
      {
        model: 'm',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this image?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0=', detail: 'low' } },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0=' } },
            ],
          },
        ],
      },
      100,
    );
    await openai.chat(target('openai'), request);
    await anthropic.chat(target('anthropic'), request);
    const [compatible, claude] = fake().requests.map(({ body }) => body.messages as Array<{ content: unknown[] }>);
    expect(compatible![0]!.content).toEqual([
      { type: 'text', text: 'What is in this image?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0=', detail: 'low' } },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0=' } },
    ]);
    expect(claude![0]!.content).toEqual([
      { type: 'text', text: 'What is in this image?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0=' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0=' } },
    ]);
  });

  it('an OpenAI-compatible server gets each message’s name, when it has one', async () => {
    const { toChatRequest } = await import('@platform/domain/gateway/openai');
    const request = toChatRequest(
      {
        model: 'm',
        messages: [
          { role: 'user', content: 'Which way to the lighthouse?', name: 'alice' },
          { role: 'user', content: 'And back?' },
        ],
      },
      100,
    );
    await openai.chat(target('openai'), request);
    expect(fake().requests.at(-1)!.body.messages).toEqual([
      { role: 'user', content: 'Which way to the lighthouse?', name: 'alice' },
      { role: 'user', content: 'And back?' },
    ]);
  });

  it('OpenAI’s own API gets the cap as max_completion_tokens; another compatible server as max_tokens, unless configured', async () => {
    const hi = { messages: [{ role: 'user' as const, content: 'Hi' }], maxTokens: 500 };
    openAiApi.servedAt = fake().baseUrl('openai');
    try {
      await openai.chat(target('openai', { baseUrl: undefined }), hi);
      await read(openai.chatStream(target('openai', { baseUrl: 'https://api.openai.com/v1' }), hi));
    } finally {
      openAiApi.servedAt = '';
    }
    await openai.chat(target('openai'), hi);
    await openai.chat(target('openai', { config: { tokenLimitParam: 'max_completion_tokens' } }), hi);
    const caps = fake().requests.map(({ body }) => [body.max_tokens, body.max_completion_tokens]);
    expect(caps).toEqual([
      [undefined, 500],
      [undefined, 500],
      [500, undefined],
      [undefined, 500],
    ]);
  });

  it('Gemini gets at most 100 inputs a batchEmbedContents; the vectors come back in the inputs’ order', async () => {
    const input = Array.from({ length: 256 }, (_, i) => `text ${i}`);
    const result = await google.embed!(target('gemini'), { input, dimensions: 2 });
    const batches = fake()
      .requests.map(({ body }) =>
        (body.requests as Array<{ content: { parts: Array<{ text: string }> } }>).map((r) => r.content.parts[0]!.text),
      )
      .sort((a, b) => input.indexOf(a[0]!) - input.indexOf(b[0]!));
    expect(batches.map((batch) => batch.length)).toEqual([100, 100, 56]);
    expect(batches.flat()).toEqual(input);
    // The fake answers each batch's i-th input with the vector [(i+1)/100, 2(i+1)/100].
    expect(result.vectors).toHaveLength(256);
    expect([result.vectors[0], result.vectors[99], result.vectors[100], result.vectors[255]]).toEqual([
      [0.01, 0.02],
      [1, 2],
      [0.01, 0.02],
      [0.56, 1.12],
    ]);
    expect(result.usage.inputTokens).toBe(input.reduce((sum, text) => sum + estimateTextTokens(text), 0));
  });
});
