import { describe, expect, it } from 'vitest';
import { adapter } from '@platform/domain/gateway/adapters/openai';
import type { Target } from '@platform/domain/gateway/types';
import { useFakeProvider } from '../../helpers/use-fake-provider.ts';

const fake = useFakeProvider();

const target = (extra: Partial<Target> = {}): Target => ({
  adapter: 'openai',
  providerSlug: 'openai',
  providerModelId: 'gpt-4o-mini',
  apiKey: 'sk-openai',
  baseUrl: `${fake().baseUrl('openai')}/`,
  ...extra,
});

describe('the OpenAI-compatible adapter', () => {
  it('sends the chat in OpenAI’s shape to any base URL, with the optional organization and project headers', async () => {
    await adapter.chat(target({ config: { organization: 'org-1', project: 'proj-1' } }), {
      messages: [
        { role: 'system', content: 'sys' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
          ],
        },
      ],
      maxTokens: 20,
      temperature: 0.2,
      topP: 0.9,
      stop: ['END'],
    });
    const [sent] = fake().requests;
    expect(sent!.path).toBe('/v1/chat/completions');
    expect(sent!.headers['openai-organization']).toBe('org-1');
    expect(sent!.headers['openai-project']).toBe('proj-1');
    expect(sent!.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'sys' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
          ],
        },
      ],
      max_tokens: 20,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['END'],
    });
  });

  it('asks a stream for its usage in the last chunk, and calls a keyless local server without authorization', async () => {
    for await (const _ of adapter.chatStream(target({ apiKey: undefined }), { messages: [{ role: 'user', content: 'hi' }] }))
      void _;
    expect(fake().requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(fake().requests[0]!.headers.authorization).toBeUndefined();
  });

  it('maps a content-policy refusal to content_filter and an exhausted quota to auth (no retry can fix either)', async () => {
    fake().script(
      'gpt-4o-mini',
      { kind: 'fail', status: 400, code: 'content_policy_violation' },
      { kind: 'fail', status: 429, code: 'insufficient_quota' },
    );
    const request = { messages: [{ role: 'user' as const, content: 'x' }] };
    await expect(adapter.chat(target(), request)).rejects.toMatchObject({ kind: 'content_filter', options: { status: 400 } });
    await expect(adapter.chat(target(), request)).rejects.toMatchObject({
      kind: 'auth',
      retryable: false,
      options: { status: 429 },
    });
  });

  it('embeds in input order, with the provider’s token count', async () => {
    fake().script('text-embedding-3-small', { kind: 'ok', inputTokens: 6 });
    const result = await adapter.embed!(target({ providerModelId: 'text-embedding-3-small' }), {
      input: ['a', 'b'],
      dimensions: 3,
    });
    expect(result.vectors).toEqual([
      [0.01, 0.02, 0.03],
      [0.02, 0.04, 0.06],
    ]);
    expect(result.usage).toEqual({ inputTokens: 6 });
    expect(fake().requests[0]!.body).toEqual({
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
      dimensions: 3,
      encoding_format: 'float',
    });
  });

  it('generates base64 images, asking DALL·E for b64_json and leaving gpt-image models their default', async () => {
    const dalle = await adapter.image!(target({ providerModelId: 'dall-e-3' }), { prompt: 'a fox', n: 2, size: '1024x1024' });
    expect(dalle.images).toHaveLength(2);
    expect(Buffer.from(dalle.images[0]!, 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect(dalle.usage).toEqual({ images: 2 });
    await adapter.image!(target({ providerModelId: 'gpt-image-1' }), { prompt: 'a fox', n: 1 });
    expect(fake().requests.map((r) => r.body)).toEqual([
      { model: 'dall-e-3', prompt: 'a fox', n: 2, size: '1024x1024', response_format: 'b64_json' },
      { model: 'gpt-image-1', prompt: 'a fox', n: 1 },
    ]);
  });
});
