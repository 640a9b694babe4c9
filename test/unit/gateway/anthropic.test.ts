import { describe, expect, it } from 'vitest';
import { adapter } from '@platform/domain/gateway/adapters/anthropic';
import type { ChatChunk, Target } from '@platform/domain/gateway/types';
import { useFakeProvider } from '../../helpers/use-fake-provider.ts';

const fake = useFakeProvider();

const target = (extra: Partial<Target> = {}): Target => ({
  adapter: 'anthropic',
  providerSlug: 'anthropic',
  providerModelId: 'claude-3-5-haiku-latest',
  apiKey: 'sk-ant-key',
  baseUrl: fake().baseUrl('anthropic'),
  ...extra,
});

describe('the Anthropic adapter', () => {
  it('splits the system prompt out, sends images as base64 blocks, and always sets max_tokens', async () => {
    await adapter.chat(target(), {
      messages: [
        { role: 'system', content: 'Rule one.' },
        { role: 'system', content: 'Rule two.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/PNG;base64,iVBORw0=' } },
          ],
        },
        { role: 'assistant', content: 'A PNG.' },
        { role: 'user', content: 'Sure?' },
      ],
      stop: ['\n\nHuman:'],
    });
    const [sent] = fake().requests;
    expect(sent!.path).toBe('/v1/messages');
    expect(sent!.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent!.body).toEqual({
      model: 'claude-3-5-haiku-latest',
      system: 'Rule one.\n\nRule two.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0=' } },
          ],
        },
        { role: 'assistant', content: [{ type: 'text', text: 'A PNG.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Sure?' }] },
      ],
      max_tokens: 4_096,
      stop_sequences: ['\n\nHuman:'],
    });
  });

  it('takes the API version from the provider config', async () => {
    await adapter.chat(target({ config: { apiVersion: '2024-01-01' } }), { messages: [{ role: 'user', content: 'x' }] });
    expect(fake().requests[0]!.headers['anthropic-version']).toBe('2024-01-01');
  });

  it('refuses an image it cannot inline before calling anyone', async () => {
    const request = {
      messages: [
        { role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url: 'https://example.com/cat.png' } }] },
      ],
    };
    await expect(adapter.chat(target(), request)).rejects.toMatchObject({ kind: 'invalid' });
    expect(fake().requests).toHaveLength(0);
  });

  it('treats 529 overloaded as a server error to retry', async () => {
    fake().script('claude-3-5-haiku-latest', { kind: 'fail', status: 529 });
    await expect(adapter.chat(target(), { messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      kind: 'server',
      retryable: true,
      options: { status: 529 },
    });
  });

  it('classifies an in-stream error event by its type', async () => {
    fake().script('claude-3-5-haiku-latest', { kind: 'stream-error', afterChunks: 0, code: 'rate_limit_error' });
    const chunks: ChatChunk[] = [];
    const error = await (async () => {
      for await (const chunk of adapter.chatStream(target(), { messages: [{ role: 'user', content: 'x' }] })) chunks.push(chunk);
    })().catch((e: unknown) => e);
    expect(chunks).toEqual([]);
    expect(error).toMatchObject({ kind: 'throttled' });
  });
});
