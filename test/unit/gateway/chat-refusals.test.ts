import { describe, expect, it } from 'vitest';
import { adapter as anthropic } from '@platform/domain/gateway/adapters/anthropic';
import { adapter as google } from '@platform/domain/gateway/adapters/google';
import { UnsupportedError } from '@platform/domain/gateway/types';
import type { Adapter, ChatMessage, Target } from '@platform/domain/gateway/types';
import { useFakeProvider } from '../../helpers/use-fake-provider.ts';

/**
 * What Anthropic's and Gemini's APIs cannot take of a chat that OpenAI's can (an image by URL, which
 * OpenAI's models fetch; only blank messages) is the model's limit, refused before anything is sent
 * as an `UnsupportedError` naming `messages`: by `checkChat` (which the gateway runs before it uses
 * the key) and by `chat` and `chatStream` alike, so the executor passes on to another candidate.
 */
const fake = useFakeProvider();

const adapters: Array<[string, Adapter, Target['adapter'], 'anthropic' | 'gemini', string]> = [
  ['Anthropic', anthropic, 'anthropic', 'anthropic', 'claude-3-5-haiku-latest'],
  ['Gemini', google, 'google', 'gemini', 'gemini-2.0-flash'],
];

const byUrl: ChatMessage[] = [
  { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] },
];
const blank: ChatMessage[] = [
  { role: 'system', content: ' ' },
  { role: 'user', content: '' },
];

describe.each(adapters)('the %s adapter: what it cannot take of a chat', (_, adapter, kind, dialect, model) => {
  const target = (): Target => ({
    adapter: kind,
    providerSlug: kind,
    providerModelId: model,
    apiKey: 'key',
    baseUrl: fake().baseUrl(dialect),
  });

  it.each([
    ['an image by URL', byUrl, 'takes images as base64 data URLs'],
    ['only blank messages', blank, 'needs a message with some text or an image'],
  ] as const)('refuses %s before sending anything, as the model’s limit naming messages', async (__, messages, says) => {
    const request = { messages: [...messages] };
    const refusal = { kind: 'invalid', options: { param: 'messages' }, message: expect.stringContaining(says) };
    expect(() => adapter.checkChat!(target(), request)).toThrow(UnsupportedError);
    expect(() => adapter.checkChat!(target(), request)).toThrow(expect.objectContaining(refusal));
    await expect(adapter.chat(target(), request)).rejects.toThrow(UnsupportedError);
    const stream = adapter.chatStream(target(), request)[Symbol.asyncIterator]();
    await expect(stream.next()).rejects.toThrow(expect.objectContaining(refusal));
    expect(fake().requests).toHaveLength(0);
  });

  it('takes an inline image and a conversation with text', () => {
    const image = { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,iVBORw0=' } };
    expect(() => adapter.checkChat!(target(), { messages: [{ role: 'user', content: [image] }] })).not.toThrow();
    expect(() => adapter.checkChat!(target(), { messages: [{ role: 'system', content: 'Hi' }] })).not.toThrow();
  });
});
