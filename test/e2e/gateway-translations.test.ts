import { beforeAll, describe, expect, it } from 'vitest';
import { signUpPlatformAdmin, signUpUser, type SignedInUser } from '../helpers/api.ts';
import { fakePlatformModel, gateway, keyFor, readStream, stream } from '../helpers/gateway.ts';
import { useFakeProvider } from '../helpers/use-fake-provider.ts';

/**
 * Request shapes real OpenAI clients send, through the gateway to each dialect, read from what the
 * fake provider received: what the provider's API refuses is made acceptable, and what the client
 * asked for that the provider takes is sent on.
 */
const fake = useFakeProvider();
let admin: SignedInUser;
let owner: SignedInUser;
let key: string;

beforeAll(async () => {
  [admin, owner] = await Promise.all([signUpPlatformAdmin('translations-admin'), signUpUser('translations-owner')]);
  key = await keyFor(owner, owner.personalOrgId);
});

const PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** A fresh platform model on the fake in this dialect, and the bodies its provider received. */
async function fakeModel(dialect: 'openai' | 'anthropic' | 'gemini') {
  const adapter = dialect === 'gemini' ? 'google' : dialect;
  const model = await fakePlatformModel(admin, fake().baseUrl(dialect), { adapter: adapter as 'openai' });
  return {
    modelId: model.modelId,
    received: () =>
      fake()
        .requests.filter((r) => r.model === model.providerModelId)
        .map((r) => r.body),
  };
}

describe('the gateway’s translations, as the provider receives them', () => {
  it('sends Anthropic no whitespace-only stop sequence (it refuses the call for one), keeping the others', async () => {
    const model = await fakeModel('anthropic');
    const res = await gateway(
      '/chat/completions',
      { token: key },
      { model: model.modelId, messages: [{ role: 'user', content: 'One line please' }], stop: ['\n', 'END'], max_tokens: 20 },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(model.received().map((body) => body.stop_sequences)).toEqual([['END']]);
  });

  it('sends Gemini no empty text part and never empty contents, streamed or not', async () => {
    const model = await fakeModel('gemini');
    const conversation = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: '' },
      { role: 'user', content: 'Still there?' },
    ];
    const systemOnly = [{ role: 'system', content: 'Write a haiku about the sea.' }];
    for (const messages of [conversation, systemOnly]) {
      const res = await gateway('/chat/completions', { token: key }, { model: model.modelId, messages, max_tokens: 20 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const streamed = await stream(key, { model: model.modelId, messages, max_tokens: 20, stream: true });
      expect(streamed.status).toBe(200);
      expect((await readStream(streamed)).at(-1)!.data).toBe('[DONE]');
    }
    expect(model.received().map((body) => body.contents)).toEqual([
      [{ role: 'user', parts: [{ text: 'Hi' }, { text: 'Still there?' }] }],
      [{ role: 'user', parts: [{ text: 'Hi' }, { text: 'Still there?' }] }],
      [{ role: 'user', parts: [{ text: 'Write a haiku about the sea.' }] }],
      [{ role: 'user', parts: [{ text: 'Write a haiku about the sea.' }] }],
    ]);
  });

  it('sends an OpenAI-compatible server an image’s detail as the client asked', async () => {
    const model = await fakeModel('openai');
    const content = [
      { type: 'text', text: 'What is in this image?' },
      { type: 'image_url', image_url: { url: PNG, detail: 'low' } },
    ];
    const res = await gateway(
      '/chat/completions',
      { token: key },
      { model: model.modelId, messages: [{ role: 'user', content }], max_tokens: 20 },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(model.received().map((body) => body.messages)).toEqual([[{ role: 'user', content }]]);
  });
});
