/**
 * The executor over real adapters and sockets: retries that honour the provider's Retry-After,
 * fallback across dialects, cooldowns that spare a failing provider its traffic, and streams that
 * fall back only until their first chunk.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { adapterFor } from '@platform/domain/gateway/adapters/registry';
import { Cooldowns } from '@platform/domain/gateway/cooldowns';
import { execute, executeStream, ExecutionError } from '@platform/domain/gateway/executor';
import type { ExecuteOptions } from '@platform/domain/gateway/executor';
import type { AdapterKind, CallOptions, Candidate, ChatChunk, ChatRequest } from '@platform/domain/gateway/types';
import { FAKE_TEXT, times } from '../../helpers/fake-provider.ts';
import type { Dialect } from '../../helpers/fake-provider.ts';
import { useFakeProvider } from '../../helpers/use-fake-provider.ts';

const fake = useFakeProvider();

const request: ChatRequest = { messages: [{ role: 'user', content: 'Hello?' }] };
const KINDS: Record<Dialect, AdapterKind> = { openai: 'openai', anthropic: 'anthropic', gemini: 'google' };

function candidate(dialect: Dialect, model: string): Candidate {
  return {
    modelId: `m-${model}`,
    modelName: model,
    type: 'TEXT',
    pricing: { inputPerMTokMicros: 1_000_000, outputPerMTokMicros: 2_000_000 },
    target: {
      adapter: KINDS[dialect],
      providerSlug: dialect,
      providerModelId: model,
      apiKey: `key-${model}`,
      baseUrl: fake().baseUrl(dialect),
    },
    keySource: 'platform',
    reason: 'test',
  };
}

const chat = async (c: Candidate, options: CallOptions) => (await adapterFor(c.target.adapter)).chat(c.target, request, options);
const stream = (c: Candidate, options: CallOptions): AsyncIterable<ChatChunk> => ({
  async *[Symbol.asyncIterator]() {
    yield* (await adapterFor(c.target.adapter)).chatStream(c.target, request, options);
  },
});

let waits: number[];
let options: ExecuteOptions;
beforeEach(() => {
  waits = [];
  options = {
    cooldowns: new Cooldowns(),
    random: () => 0,
    // Record the waits instead of sleeping them; the real clock still runs.
    sleep: async (ms) => void waits.push(ms),
  };
});

describe('retries and fallback over real providers', () => {
  it('retries a throttled provider after its Retry-After, on the same target', async () => {
    fake().script('gpt-a', times(2, { kind: 'fail', status: 429, retryAfter: 1 }));
    const result = await execute([candidate('openai', 'gpt-a'), candidate('anthropic', 'claude-b')], chat, options);
    expect(result.value.text).toBe(FAKE_TEXT);
    expect(result.candidate.target.providerModelId).toBe('gpt-a');
    expect(waits).toEqual([1_000, 1_000]);
    expect(fake().requests.map((r) => r.model)).toEqual(['gpt-a', 'gpt-a', 'gpt-a']);
  });

  it('falls back across dialects after the retries, and the next call skips the target while it cools down', async () => {
    fake().script('claude-a', times(3, { kind: 'fail', status: 529 }));
    const plan = [candidate('anthropic', 'claude-a'), candidate('gemini', 'gemini-b')];
    const result = await execute(plan, chat, options);
    expect(result.candidate.target.providerModelId).toBe('gemini-b');
    expect(result.value.usage).toEqual({ inputTokens: 10, outputTokens: 5 });
    expect(result.attempts.map((a) => `${a.modelId}#${a.attempt} ${a.outcome}${a.status ? `/${a.status}` : ''}`)).toEqual([
      'm-claude-a#1 server/529',
      'm-claude-a#2 server/529',
      'm-claude-a#3 server/529',
      'm-gemini-b#1 ok',
    ]);

    fake().requests.length = 0;
    await execute(plan, chat, options);
    expect(fake().requests.map((r) => r.model)).toEqual(['gemini-b']);
  });

  it('falls back from a provider that times out', async () => {
    fake().script('slow', { kind: 'hang' });
    // Each attempt's limit: the one that answers must do so within it too, on a loaded machine as well.
    const result = await execute([candidate('openai', 'slow'), candidate('openai', 'fast')], chat, {
      ...options,
      timeoutMs: 1_000,
      retry: { maxAttempts: 1 },
    });
    expect(result.candidate.target.providerModelId).toBe('fast');
    expect(result.attempts[0]).toMatchObject({ outcome: 'timeout' });
  });

  it('surfaces a refused request without trying anyone else', async () => {
    fake().script('gpt-a', { kind: 'fail', status: 400, message: 'bad request' });
    const error = await execute([candidate('openai', 'gpt-a'), candidate('gemini', 'gemini-b')], chat, options).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as ExecutionError).error).toMatchObject({ kind: 'invalid', options: { status: 400 } });
    expect(fake().requests).toHaveLength(1);
  });
});

describe('streams over real providers', () => {
  async function drain(iterable: AsyncIterable<ChatChunk>) {
    let text = '';
    try {
      for await (const chunk of iterable) if (chunk.type === 'delta') text += chunk.text;
      return { text };
    } catch (error) {
      return { text, error };
    }
  }

  it('falls back to another provider while nothing has been delivered', async () => {
    fake().script('gpt-a', times(3, { kind: 'fail', status: 503 }));
    const result = await executeStream([candidate('openai', 'gpt-a'), candidate('anthropic', 'claude-b')], stream, options);
    expect(result.candidate.target.providerModelId).toBe('claude-b');
    expect(await drain(result.stream)).toEqual({ text: FAKE_TEXT });
  });

  it('ends a stream that drops after its first chunk with what was delivered, without switching provider', async () => {
    fake().script('gpt-a', { kind: 'drop', afterChunks: 3 });
    const result = await executeStream([candidate('openai', 'gpt-a'), candidate('anthropic', 'claude-b')], stream, options);
    const drained = await drain(result.stream);
    expect(drained.text).toBe('Hello from the ');
    expect(drained.error).toMatchObject({ kind: 'network' });
    expect(result.attempts).toHaveLength(1);
    expect(result.attempts[0]).toMatchObject({ outcome: 'ok', endedWith: 'network' });
    expect(fake().requests.map((r) => r.model)).toEqual(['gpt-a']);
  });
});
