/**
 * What every HTTP adapter must do, proved against the fake provider in each dialect: answers and
 * usage, the key only in its header, every failure classified, timeouts, cancellation, and streams
 * that drop, stop short or fail mid-way.
 */
import { describe, expect, it } from 'vitest';
import { adapter as anthropic } from '@platform/domain/gateway/adapters/anthropic';
import { adapter as google } from '@platform/domain/gateway/adapters/google';
import { adapter as openai } from '@platform/domain/gateway/adapters/openai';
import { estimateTextTokens, estimateTokens } from '@platform/domain/gateway/pricing';
import { ProviderError } from '@platform/domain/gateway/types';
import type { Adapter, ChatChunk, ChatRequest, Target } from '@platform/domain/gateway/types';
import { FAKE_TEXT, times } from '../../helpers/fake-provider.ts';
import type { Dialect } from '../../helpers/fake-provider.ts';
import { startFakeProvider } from '../../helpers/fake-provider.ts';
import { useFakeProvider } from '../../helpers/use-fake-provider.ts';

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
    fake().script('model-1', { kind: 'ok', chunkDelayMs: 1_000 });
    const silent = await read(adapter.chatStream(target(), request, { timeoutMs: 100 }));
    expect(silent.text).toBe('Hello ');
    expect(silent.error).toMatchObject({ kind: 'timeout' });
  });

  it('bounds each silence of a stream, not its whole length', async () => {
    // Five chunks 40 ms apart take 200 ms, four times the timeout: each gap is within it.
    fake().script('model-1', { kind: 'ok', chunkDelayMs: 40 });
    const slow = await read(adapter.chatStream(target(), request, { timeoutMs: 150 }));
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
