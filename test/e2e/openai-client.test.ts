import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, createTeam, signUpUser, type SignedInUser } from '../helpers/api.ts';
import { keyFor, usageOf } from '../helpers/gateway.ts';

/**
 * The README's promise, kept by the official OpenAI SDK for Node: any OpenAI client works by
 * changing only its base URL and key. Every gateway route, through the local server, as the SDK
 * sends it and parses it: completions (whole and streamed), embeddings, images, the model list,
 * and errors the SDK turns into its own typed exceptions.
 */
let owner: SignedInUser;
let orgId: string;
let client: OpenAI;

beforeAll(async () => {
  owner = await signUpUser('sdk');
  ({ orgId } = await createTeam(owner));
  // What the README says to change, and nothing else (no retries, so a refusal comes straight back).
  client = new OpenAI({ baseURL: `${baseUrl()}/openai/v1`, apiKey: await keyFor(owner, orgId), maxRetries: 0 });
});

const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Name a lighthouse.' },
];

describe('the official OpenAI SDK, pointed at the gateway', () => {
  it('creates a chat completion, typed and parsed as from OpenAI, and the call is metered', async () => {
    const { data: completion, response } = await client.chat.completions
      .create({ model: 'local-chat', messages, max_tokens: 50 })
      .withResponse();
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('local-chat');
    expect(completion.choices[0]!.message).toMatchObject({ role: 'assistant', content: expect.stringContaining('local model') });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
    expect(response.headers.get('x-route')).toContain('local-chat');
    const [log] = await usageOf(owner, orgId, 1);
    expect(log).toMatchObject({ model: 'local-chat', outputTokens: completion.usage!.completion_tokens });
  });

  it('streams a completion chunk by chunk, with the usage in the last chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'local-chat',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id)).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toContain('local model');
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });

    // The SDK's own helper, which assembles the stream into a completion, reads it too.
    const final = await client.chat.completions.stream({ model: 'local-chat', messages }).finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe(text);
  });

  it('makes embeddings, images and lists the models', async () => {
    const embeddings = await client.embeddings.create({ model: 'local-embed', input: ['a lighthouse', 'the sea'] });
    expect(embeddings.data.map((d) => d.index)).toEqual([0, 1]);
    expect(embeddings.data[0]!.embedding.length).toBeGreaterThan(10);
    expect(embeddings.usage.prompt_tokens).toBeGreaterThan(0);

    const images = await client.images.generate({ model: 'local-image', prompt: 'A lighthouse', n: 1, size: '256x256' });
    expect(Buffer.from(images.data![0]!.b64_json!, 'base64').subarray(1, 4).toString('ascii')).toBe('PNG');

    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(['local-chat', 'local-embed', 'local-image']));
    // One model by its id, as the SDK asks for it (its id encoded in the path).
    expect(await client.models.retrieve('local-chat')).toMatchObject({ id: 'local-chat', object: 'model', owned_by: 'local' });
    // Named as a call names it (its id in any case, an alias, its provider's model id), answered by its own id.
    for (const [name, id] of [
      ['LOCAL-CHAT', 'local-chat'],
      ['Default-Image', 'nova-canvas'],
      ['amazon.nova-canvas-v1:0', 'nova-canvas'],
    ] as const)
      expect(await client.models.retrieve(name), name).toMatchObject({ id, object: 'model' });
    const unknown = await client.models.retrieve('amazon.no-such-model-v1:0').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
  });

  it('throws the SDK’s typed errors for the gateway’s refusals', async () => {
    const unknown = await client.chat.completions.create({ model: 'no-such-model', messages }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown).toMatchObject({ status: 404, type: 'invalid_request_error', code: 'model_not_found' });

    const invalid = await client.chat.completions.create({ model: 'local-chat', messages: [] }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(OpenAI.BadRequestError);

    const stranger = new OpenAI({ baseURL: `${baseUrl()}/openai/v1`, apiKey: 'ak_not-a-key', maxRetries: 0 });
    const refused = await stranger.models.list().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(refused).toMatchObject({ status: 401, type: 'authentication_error' });
  });

  it('takes a user’s access token as the key, and the organization as the SDK names it', async () => {
    const user = new OpenAI({
      baseURL: `${baseUrl()}/openai/v1`,
      apiKey: owner.accessToken,
      organization: orgId,
      maxRetries: 0,
    });
    const completion = await user.chat.completions.create({ model: 'local-chat', messages, max_tokens: 20 });
    expect(completion.choices[0]!.message.content).toBeTruthy();
    const logs = await usageOf(owner, orgId, 2);
    expect(logs.some((log) => log.userId === owner.userId)).toBe(true);
  });
});
