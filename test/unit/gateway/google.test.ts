import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { adapter } from '@platform/domain/gateway/adapters/google';
import type { ChatChunk, Target } from '@platform/domain/gateway/types';
import { useFakeProvider } from '../../helpers/use-fake-provider.ts';

const fake = useFakeProvider();

const target = (extra: Partial<Target> = {}): Target => ({
  adapter: 'google',
  providerSlug: 'google',
  providerModelId: 'gemini-2.0-flash',
  apiKey: 'AIza-key',
  baseUrl: fake().baseUrl('gemini'),
  ...extra,
});

/** A one-answer server for bodies the fake does not produce (blocked prompts, thoughts, errors mid-stream). */
async function serving(contentType: string, text: string) {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': contentType });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1beta`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
const answering = (body: unknown) => serving('application/json', JSON.stringify(body));
/** Streams these events (server-sent), then ends. */
const streaming = (events: unknown[]) =>
  serving('text/event-stream', events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join(''));

describe('the Gemini adapter', () => {
  it('sends contents with model turns, the system instruction and the generation config to the model’s path', async () => {
    await adapter.chat(target(), {
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/' } }] },
      ],
      maxTokens: 64,
      temperature: 0.5,
      topP: 0.8,
      stop: ['.'],
    });
    const [sent] = fake().requests;
    expect(sent!.path).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    expect(sent!.body).toEqual({
      contents: [
        { role: 'user', parts: [{ text: 'Hi' }] },
        { role: 'model', parts: [{ text: 'Hello' }] },
        { role: 'user', parts: [{ inlineData: { mimeType: 'image/jpeg', data: '/9j/' } }] },
      ],
      systemInstruction: { parts: [{ text: 'Be terse.' }] },
      generationConfig: { maxOutputTokens: 64, temperature: 0.5, topP: 0.8, stopSequences: ['.'] },
    });
  });

  it('streams from streamGenerateContent with alt=sse, reading CRLF-separated events', async () => {
    const chunks: ChatChunk[] = [];
    for await (const chunk of adapter.chatStream(target(), { messages: [{ role: 'user', content: 'x' }] })) chunks.push(chunk);
    expect(chunks.at(-1)).toEqual({ type: 'done', finishReason: 'stop', usage: { inputTokens: 10, outputTokens: 5 } });
    expect(fake().requests[0]!.path).toBe('/v1beta/models/gemini-2.0-flash:streamGenerateContent');
  });

  it('classifies an error sent mid-stream by its status: exhausted quota is throttling, as a 429 would be', async () => {
    const kindOf = async (status: string) => {
      const server = await streaming([
        { candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] } }] },
        { error: { code: 0, message: 'stopped', status } },
      ]);
      try {
        for await (const _ of adapter.chatStream(target({ baseUrl: server.baseUrl }), {
          messages: [{ role: 'user', content: 'x' }],
        }));
        return 'none';
      } catch (error) {
        return (error as { kind: string }).kind;
      } finally {
        await server.close();
      }
    };
    expect(await kindOf('RESOURCE_EXHAUSTED')).toBe('throttled');
    expect(await kindOf('DEADLINE_EXCEEDED')).toBe('timeout');
    expect(await kindOf('PERMISSION_DENIED')).toBe('auth');
    expect(await kindOf('INVALID_ARGUMENT')).toBe('invalid');
    expect(await kindOf('INTERNAL')).toBe('server');
    expect(await kindOf('UNAVAILABLE')).toBe('server');
  });

  it('embeds every input in one batch request', async () => {
    const result = await adapter.embed!(target({ providerModelId: 'text-embedding-004' }), {
      input: ['one', 'two', 'three'],
      dimensions: 2,
    });
    expect(result.vectors).toEqual([
      [0.01, 0.02],
      [0.02, 0.04],
      [0.03, 0.06],
    ]);
    expect(result.usage.inputTokens).toBe(4); // estimated: 1 + 1 + 2
    expect(fake().requests).toHaveLength(1);
    expect(fake().requests[0]!.body).toEqual({
      requests: ['one', 'two', 'three'].map((text) => ({
        model: 'models/text-embedding-004',
        content: { parts: [{ text }] },
        outputDimensionality: 2,
      })),
    });
  });

  it('answers a blocked prompt as content_filter, and a safety stop as finish reason content_filter', async () => {
    const blocked = await answering({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 3 } });
    await expect(
      adapter.chat(target({ baseUrl: blocked.baseUrl }), { messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({
      kind: 'content_filter',
    });
    await blocked.close();
    const stopped = await answering({
      candidates: [{ content: { parts: [{ text: 'Partial' }] }, finishReason: 'SAFETY' }],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1 },
    });
    const result = await adapter.chat(target({ baseUrl: stopped.baseUrl }), { messages: [{ role: 'user', content: 'x' }] });
    expect(result).toMatchObject({ text: 'Partial', finishReason: 'content_filter' });
    await stopped.close();
  });

  it('bills a thinking model’s thoughts as output but leaves them out of the answer', async () => {
    const thinking = await answering({
      candidates: [{ content: { parts: [{ text: 'hmm…', thought: true }, { text: '42' }] }, finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 1, thoughtsTokenCount: 30 },
    });
    const result = await adapter.chat(target({ baseUrl: thinking.baseUrl }), { messages: [{ role: 'user', content: 'x' }] });
    expect(result).toEqual({ text: '42', finishReason: 'stop', usage: { inputTokens: 8, outputTokens: 31 } });
    await thinking.close();
  });
});
