import {
  AccessDeniedException,
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  ModelNotReadyException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Cooldowns } from '../cooldowns.ts';
import { execute } from '../executor.ts';
import { ProviderError, UnsupportedError } from '../types.ts';
import type { Candidate, ChatChunk, Target } from '../types.ts';
import { adapter, classify } from './bedrock.ts';

const bedrock = mockClient(BedrockRuntimeClient);
afterAll(() => bedrock.restore());
beforeEach(() => bedrock.reset());

const target = (providerModelId = 'anthropic.claude-3-haiku-20240307-v1:0', extra: Partial<Target> = {}): Target => ({
  adapter: 'bedrock',
  providerSlug: 'bedrock',
  providerModelId,
  ...extra,
});
const meta = { $metadata: {} };
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;
const sentBodies = () => bedrock.commandCalls(InvokeModelCommand).map((call) => JSON.parse(call.args[0].input.body as string));

async function* events(...items: ConverseStreamOutput[]) {
  for (const item of items) yield item;
}

async function read(stream: AsyncIterable<ChatChunk>) {
  const chunks: ChatChunk[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
    return { chunks };
  } catch (error) {
    return { chunks, error: error as ProviderError };
  }
}

describe('the Bedrock adapter: Converse', () => {
  it('sends the system prompt apart, images as bytes and the inference config; answers text, usage and finish reason', async () => {
    bedrock.on(ConverseCommand).resolves({
      output: { message: { role: 'assistant', content: [{ text: 'Hello' }, { text: ' there' }] } },
      stopReason: 'max_tokens',
      usage: { inputTokens: 12, outputTokens: 34, totalTokens: 46 },
      metrics: { latencyMs: 1 },
    });
    const result = await adapter.chat(target(), {
      messages: [
        { role: 'system', content: 'Be kind.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look:' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAEC' } },
          ],
        },
      ],
      maxTokens: 34,
      temperature: 0.1,
      topP: 0.5,
      stop: ['###'],
    });
    expect(result).toEqual({ text: 'Hello there', finishReason: 'length', usage: { inputTokens: 12, outputTokens: 34 } });
    const input = bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(input).toEqual({
      modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      system: [{ text: 'Be kind.' }],
      messages: [
        { role: 'user', content: [{ text: 'Look:' }, { image: { format: 'jpeg', source: { bytes: Buffer.from([0, 1, 2]) } } }] },
      ],
      inferenceConfig: { maxTokens: 34, temperature: 0.1, topP: 0.5, stopSequences: ['###'] },
    });
  });

  const answered = () =>
    bedrock.on(ConverseCommand).resolves({
      output: { message: { role: 'assistant', content: [{ text: 'ok' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
    } as never);
  const sentInput = () => bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;

  it('sends turns that alternate and start with the user: same-role messages merged, blank text dropped first', async () => {
    answered();
    await adapter.chat(target(), {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'assistant', content: 'Hello! How can I help?' },
        { role: 'user', content: 'Here is a document: …' },
        { role: 'assistant', content: '' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Summarise it.' },
            { type: 'text', text: ' ' },
          ],
        },
      ],
    });
    expect(sentInput()).toMatchObject({
      system: [{ text: 'Be brief.' }],
      messages: [
        { role: 'user', content: [{ text: '(conversation start)' }] },
        { role: 'assistant', content: [{ text: 'Hello! How can I help?' }] },
        { role: 'user', content: [{ text: 'Here is a document: …' }, { text: 'Summarise it.' }] },
      ],
    });
  });

  it('sends a request that is only a system prompt as the user’s turn, and refuses one with no text at all', async () => {
    answered();
    await adapter.chat(target(), { messages: [{ role: 'system', content: 'Write a haiku about the sea.' }] });
    const input = sentInput();
    expect(input.messages).toEqual([{ role: 'user', content: [{ text: 'Write a haiku about the sea.' }] }]);
    expect(input.system).toBeUndefined();

    await expect(adapter.chat(target(), { messages: [{ role: 'user', content: '' }] })).rejects.toMatchObject({
      kind: 'invalid',
    });
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(1);
  });

  it('sends Claude a temperature of at most 1 (OpenAI’s range goes to 2), other models theirs', async () => {
    answered();
    const request = { messages: [{ role: 'user' as const, content: 'Hi' }], temperature: 1.5 };
    await adapter.chat(target('us.anthropic.claude-3-5-haiku-20241022-v1:0'), request);
    await adapter.chat(target('anthropic.claude-3-haiku-20240307-v1:0'), { ...request, temperature: 0.7 });
    await adapter.chat(target('mistral.mistral-large-2407-v1:0'), request);
    expect(bedrock.commandCalls(ConverseCommand).map((call) => call.args[0].input.inferenceConfig?.temperature)).toEqual([
      1, 0.7, 1.5,
    ]);
  });

  it('sends Claude no whitespace-only stop sequence (it refuses the call for one), other models every one', async () => {
    answered();
    const request = { messages: [{ role: 'user' as const, content: 'One line' }], stop: ['\n', 'END'] };
    await adapter.chat(target('us.anthropic.claude-3-5-haiku-20241022-v1:0'), request);
    await adapter.chat(target('anthropic.claude-3-haiku-20240307-v1:0'), { ...request, stop: ['\n', ' \t'] });
    await adapter.chat(target('mistral.mistral-large-2407-v1:0'), request);
    expect(bedrock.commandCalls(ConverseCommand).map((call) => call.args[0].input.inferenceConfig?.stopSequences)).toEqual([
      ['END'],
      undefined,
      ['\n', 'END'],
    ]);
  });

  it('maps a guardrail’s intervention to the content_filter finish reason', async () => {
    bedrock.on(ConverseCommand).resolves({
      output: { message: { role: 'assistant', content: [{ text: 'Sorry.' }] } },
      stopReason: 'guardrail_intervened',
      usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
    } as never);
    expect((await adapter.chat(target(), { messages: [{ role: 'user', content: 'x' }] })).finishReason).toBe('content_filter');
  });

  it('takes an image/jpg data URL as a JPEG', async () => {
    answered();
    const image = { type: 'image_url' as const, image_url: { url: 'data:image/jpg;base64,AAEC' } };
    await adapter.chat(target(), { messages: [{ role: 'user', content: [image] }] });
    expect(sentInput().messages![0]!.content).toEqual([{ image: { format: 'jpeg', source: { bytes: Buffer.from([0, 1, 2]) } } }]);
  });

  it('refuses an image format Bedrock cannot take, before calling it', async () => {
    const request = {
      messages: [
        { role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url: 'data:image/bmp;base64,AA' } }] },
      ],
    };
    await expect(adapter.chat(target(), request)).rejects.toMatchObject({ kind: 'invalid' });
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(0);
  });

  it('refuses what Converse cannot take of a chat in its check step and in chat and chatStream alike, as the model’s limit (UnsupportedError naming messages)', async () => {
    const image = (url: string) => ({ role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url } }] });
    for (const [messages, message] of [
      [[image('https://example.com/cat.png')], 'takes images as base64 data URLs'],
      [[image('data:image/bmp;base64,AA')], 'takes PNG, JPEG, GIF or WebP images, not image/bmp'],
      [[{ role: 'user' as const, content: ' ' }], 'needs a message with some text or an image'],
    ] as const) {
      const request = { messages: [...messages] };
      expect(() => adapter.checkChat!(target(), request)).toThrow(UnsupportedError);
      const refusal = { kind: 'invalid', options: { param: 'messages' }, message: expect.stringContaining(message) };
      expect(() => adapter.checkChat!(target(), request)).toThrow(expect.objectContaining(refusal));
      await expect(adapter.chat(target(), request)).rejects.toBeInstanceOf(UnsupportedError);
      const streamed = await read(adapter.chatStream(target(), request));
      expect(streamed).toMatchObject({ chunks: [], error: refusal });
      expect(streamed.error).toBeInstanceOf(UnsupportedError);
    }
    expect(() => adapter.checkChat!(target(), { messages: [image('data:image/jpg;base64,AAEC')] })).not.toThrow();
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(0);
    expect(bedrock.commandCalls(ConverseStreamCommand)).toHaveLength(0);
  });

  it('uses the function’s role with the SDK’s retries off, or a bring-your-own API key as a bearer token, in the configured region', async () => {
    const seen: Array<{ region: string; maxAttempts: number; token?: string }> = [];
    bedrock.on(ConverseCommand).callsFake(async (_input, getClient) => {
      const { config } = getClient() as BedrockRuntimeClient;
      seen.push({
        region: await config.region(),
        maxAttempts: await config.maxAttempts(),
        token: (await config.token?.({}))?.token,
      });
      return {
        output: { message: { role: 'assistant', content: [{ text: 'ok' }] } },
        usage: { inputTokens: 1, outputTokens: 1 },
      };
    });
    const request = { messages: [{ role: 'user' as const, content: 'x' }] };
    await adapter.chat(target(), request);
    await adapter.chat(target(undefined, { apiKey: 'bedrock-api-key-1', config: { region: 'eu-west-3' } }), request);
    expect(seen).toEqual([
      { region: process.env.AWS_REGION ?? 'us-east-1', maxAttempts: 1, token: undefined },
      { region: 'eu-west-3', maxAttempts: 1, token: 'bedrock-api-key-1' },
    ]);
  });

  it('times out a call that does not answer, and stops on the caller’s abort', async () => {
    bedrock.on(ConverseCommand).callsFake(() => new Promise(() => undefined));
    const request = { messages: [{ role: 'user' as const, content: 'x' }] };
    await expect(adapter.chat(target(), request, { timeoutMs: 30 })).rejects.toMatchObject({ kind: 'timeout' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 10);
    await expect(adapter.chat(target(), request, { signal: controller.signal })).rejects.toMatchObject({
      kind: 'network',
      message: expect.stringContaining('cancelled'),
    });
  });
});

describe('the Bedrock adapter: ConverseStream', () => {
  const request = { messages: [{ role: 'user' as const, content: 'Hi' }] };

  it('streams the text deltas, then done with the usage of the metadata event', async () => {
    bedrock.on(ConverseStreamCommand).resolves({
      stream: events(
        { messageStart: { role: 'assistant' } },
        { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hel' } } },
        { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'lo' } } },
        { contentBlockStop: { contentBlockIndex: 0 } },
        { messageStop: { stopReason: 'end_turn' } },
        { metadata: { usage: { inputTokens: 9, outputTokens: 2, totalTokens: 11 }, metrics: { latencyMs: 5 } } },
      ),
    });
    expect((await read(adapter.chatStream(target(), request))).chunks).toEqual([
      { type: 'delta', text: 'Hel' },
      { type: 'delta', text: 'lo' },
      { type: 'done', finishReason: 'stop', usage: { inputTokens: 9, outputTokens: 2 } },
    ]);
  });

  it('raises network after what was delivered when the stream ends without its metadata', async () => {
    bedrock
      .on(ConverseStreamCommand)
      .resolves({ stream: events({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'partial' } } }) });
    const { chunks, error } = await read(adapter.chatStream(target(), request));
    expect(chunks).toEqual([{ type: 'delta', text: 'partial' }]);
    expect(error).toMatchObject({ kind: 'network' });
  });

  it('classifies an exception event in the stream, and an exception thrown while reading it', async () => {
    bedrock.on(ConverseStreamCommand).resolves({
      stream: events({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'a' } } }, {
        throttlingException: { message: 'slow down' },
      } as never),
    });
    expect((await read(adapter.chatStream(target(), request))).error).toMatchObject({ kind: 'throttled' });

    bedrock.on(ConverseStreamCommand).resolves({
      stream: (async function* (): AsyncGenerator<ConverseStreamOutput> {
        yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'a' } } };
        throw new ModelStreamErrorException({ message: 'model failed', ...meta });
      })(),
    });
    const broken = await read(adapter.chatStream(target(), request));
    expect(broken.chunks).toHaveLength(1);
    expect(broken.error).toMatchObject({ kind: 'server' });
  });

  it('fails before any chunk when the stream cannot open, classified', async () => {
    bedrock.on(ConverseStreamCommand).rejects(new ServiceUnavailableException({ message: 'unavailable', ...meta }));
    const { chunks, error } = await read(adapter.chatStream(target(), request));
    expect(chunks).toEqual([]);
    expect(error).toMatchObject({ kind: 'server', retryable: true });
  });

  it('times out a stream that goes silent', async () => {
    bedrock.on(ConverseStreamCommand).resolves({
      stream: (async function* (): AsyncGenerator<ConverseStreamOutput> {
        yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'a' } } };
        await new Promise(() => undefined);
      })(),
    });
    const { chunks, error } = await read(adapter.chatStream(target(), request, { timeoutMs: 30 }));
    expect(chunks).toHaveLength(1);
    expect(error).toMatchObject({ kind: 'timeout' });
  });
});

describe('the Bedrock adapter: InvokeModel embeddings', () => {
  it('calls Titan text embeddings v2 once per input, with dimensions and normalisation, counting its tokens', async () => {
    bedrock
      .on(InvokeModelCommand)
      .resolvesOnce({ body: json({ embedding: [0.1, 0.2], inputTextTokenCount: 3 }) })
      .resolvesOnce({ body: json({ embedding: [0.3, 0.4], inputTextTokenCount: 4 }) });
    const result = await adapter.embed!(target('amazon.titan-embed-text-v2:0'), { input: ['one', 'two'], dimensions: 256 });
    expect(result).toEqual({
      vectors: [
        [0.1, 0.2],
        [0.3, 0.4],
      ],
      usage: { inputTokens: 7 },
    });
    expect(sentBodies()).toEqual([
      { inputText: 'one', dimensions: 256, normalize: true },
      { inputText: 'two', dimensions: 256, normalize: true },
    ]);
    expect(bedrock.commandCalls(InvokeModelCommand)[0]!.args[0].input).toMatchObject({
      modelId: 'amazon.titan-embed-text-v2:0',
      contentType: 'application/json',
      accept: 'application/json',
    });
  });

  it('calls Cohere embed v3 with all texts at once (96 a call) and reads v4’s typed answer', async () => {
    bedrock.on(InvokeModelCommand).callsFake((input: { body: string }) => {
      const { texts } = JSON.parse(input.body) as { texts: string[] };
      return { body: json({ embeddings: texts.map((_, i) => [i]) }) };
    });
    const input = Array.from({ length: 100 }, (_, i) => `text ${i}`);
    const v3 = await adapter.embed!(target('cohere.embed-english-v3'), { input });
    expect(v3.vectors).toHaveLength(100);
    expect(v3.vectors[96]).toEqual([0]);
    expect(sentBodies().map((body) => [body.texts.length, body.input_type, body.truncate])).toEqual([
      [96, 'search_document', 'END'],
      [4, 'search_document', 'END'],
    ]);

    bedrock.reset();
    bedrock.on(InvokeModelCommand).resolves({ body: json({ embeddings: { float: [[1, 2]] } }) });
    const v4 = await adapter.embed!(target('us.cohere.embed-v4:0'), { input: ['x'], dimensions: 512 });
    expect(v4.vectors).toEqual([[1, 2]]);
    expect(sentBodies()[0]).toEqual({
      texts: ['x'],
      input_type: 'search_document',
      embedding_types: ['float'],
      output_dimension: 512,
    });
  });

  it('fails as the server (retried, then the next candidate) on an embedding that is not a vector of numbers', async () => {
    const answers: Array<[string, unknown]> = [
      ['amazon.titan-embed-text-v2:0', { embedding: ['a', null, {}], inputTextTokenCount: 1 }],
      ['amazon.titan-embed-text-v2:0', { embedding: [], inputTextTokenCount: 1 }],
      ['cohere.embed-english-v3', { embeddings: [[0.5], [[0.25]]] }],
      ['us.cohere.embed-v4:0', { embeddings: { float: [[0.5], []] } }],
    ];
    for (const [model, answer] of answers) {
      bedrock.reset();
      bedrock.on(InvokeModelCommand).resolves({ body: json(answer) });
      const input = model.startsWith('amazon.') ? ['one'] : ['one', 'two'];
      await expect(adapter.embed!(target(model), { input }), JSON.stringify(answer)).rejects.toMatchObject({
        kind: 'server',
        retryable: true,
      });
    }
  });

  it('refuses `dimensions` for Titan v1 / G1 and Cohere v3, whose vectors have one length, naming it', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: json({ embedding: [0.1], inputTextTokenCount: 1, embeddings: [[0.1]] }) });
    for (const model of [
      'amazon.titan-embed-text-v1',
      'amazon.titan-embed-g1-text-02',
      'cohere.embed-english-v3',
      'us.cohere.embed-multilingual-v3',
    ])
      await expect(adapter.embed!(target(model), { input: ['x'], dimensions: 256 }), model).rejects.toMatchObject({
        kind: 'invalid',
        options: { param: 'dimensions' },
      });
    expect(sentBodies()).toEqual([]);
    // Without it they embed as ever.
    await adapter.embed!(target('amazon.titan-embed-text-v1'), { input: ['x'] });
    await adapter.embed!(target('cohere.embed-english-v3'), { input: ['x'] });
    expect(sentBodies()).toEqual([{ inputText: 'x' }, { texts: ['x'], input_type: 'search_document', truncate: 'END' }]);
  });

  it('refuses embeddings from a model it has no body for', async () => {
    await expect(adapter.embed!(target('meta.llama3-8b-instruct-v1:0'), { input: ['x'] })).rejects.toMatchObject({
      kind: 'invalid',
    });
  });
});

describe('the Bedrock adapter: InvokeModel images', () => {
  it('asks Titan Image Generator v2 for up to five images a call, at the asked size', async () => {
    bedrock.on(InvokeModelCommand).callsFake((input: { body: string }) => {
      const { imageGenerationConfig } = JSON.parse(input.body) as { imageGenerationConfig: { numberOfImages: number } };
      return {
        body: json({ images: Array.from({ length: imageGenerationConfig.numberOfImages }, (_, i) => `img${i}`), error: null }),
      };
    });
    const result = await adapter.image!(target('amazon.titan-image-generator-v2:0'), {
      prompt: 'a lighthouse',
      n: 7,
      size: '512x512',
    });
    expect(result.images).toHaveLength(7);
    expect(result.usage).toEqual({ images: 7 });
    expect(sentBodies()).toEqual([
      {
        taskType: 'TEXT_IMAGE',
        textToImageParams: { text: 'a lighthouse' },
        imageGenerationConfig: { numberOfImages: 5, width: 512, height: 512, quality: 'standard' },
      },
      {
        taskType: 'TEXT_IMAGE',
        textToImageParams: { text: 'a lighthouse' },
        imageGenerationConfig: { numberOfImages: 2, width: 512, height: 512, quality: 'standard' },
      },
    ]);
  });

  it('speaks the same body to Nova Canvas, and a refused prompt is a content filter', async () => {
    bedrock.on(InvokeModelCommand).resolvesOnce({ body: json({ images: ['nova'] }) });
    expect((await adapter.image!(target('amazon.nova-canvas-v1:0'), { prompt: 'p', n: 1 })).images).toEqual(['nova']);
    expect(sentBodies()[0].imageGenerationConfig).toMatchObject({ width: 1024, height: 1024 });

    bedrock
      .on(InvokeModelCommand)
      .rejects(new ValidationException({ message: 'This request has been blocked by our content filters.', ...meta }));
    await expect(adapter.image!(target('amazon.nova-canvas-v1:0'), { prompt: 'bad', n: 1 })).rejects.toMatchObject({
      kind: 'content_filter',
    });
  });

  it('fails as the server (retried, then the next candidate) when Titan or Nova Canvas answers without an image', async () => {
    for (const [model, images] of [
      ['amazon.nova-canvas-v1:0', []],
      ['amazon.titan-image-generator-v2:0', ['']],
      ['amazon.titan-image-generator-v2:0', undefined],
    ] as const) {
      bedrock.reset();
      bedrock.on(InvokeModelCommand).resolves({ body: json({ images, error: null }) });
      await expect(adapter.image!(target(model), { prompt: 'p', n: 1 }), JSON.stringify(images)).rejects.toMatchObject({
        kind: 'server',
        retryable: true,
      });
    }
    // Of several calls for many images, one that answered none fails the call.
    bedrock.reset();
    bedrock
      .on(InvokeModelCommand)
      .resolvesOnce({ body: json({ images: ['a', 'b', 'c', 'd', 'e'] }) })
      .resolvesOnce({ body: json({ images: [] }) });
    await expect(adapter.image!(target('amazon.nova-canvas-v1:0'), { prompt: 'p', n: 6 })).rejects.toMatchObject({
      kind: 'server',
    });
  });

  it('asks Titan and Nova Canvas for their premium quality for `hd` (or `high`), and refuses what they cannot make, naming it', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: json({ images: ['img'] }) });
    for (const quality of ['hd', 'high', 'standard', 'auto', undefined] as const)
      await adapter.image!(target('amazon.titan-image-generator-v2:0'), { prompt: 'p', n: 1, ...(quality ? { quality } : {}) });
    expect(sentBodies().map((body) => body.imageGenerationConfig.quality)).toEqual([
      'premium',
      'premium',
      'standard',
      'standard',
      'standard',
    ]);
    bedrock.resetHistory();
    const refusals = [
      ['amazon.nova-canvas-v1:0', { style: 'vivid' }, 'style'],
      ['amazon.nova-canvas-v1:0', { quality: 'medium' }, 'quality'],
      ['stability.sd3-5-large-v1:0', { quality: 'hd' }, 'quality'],
      ['stability.stable-diffusion-xl-v1', { style: 'natural' }, 'style'],
    ] as const;
    for (const [model, options, param] of refusals)
      await expect(adapter.image!(target(model), { prompt: 'p', n: 1, ...options })).rejects.toMatchObject({
        kind: 'invalid',
        options: { param },
      });
    expect(sentBodies()).toEqual([]);
    // Stability's one quality is standard, OpenAI's default.
    await adapter.image!(target('stability.sd3-5-large-v1:0'), { prompt: 'p', n: 1, quality: 'standard' });
    expect(sentBodies()).toHaveLength(1);
  });

  it('asks Stability models for one PNG a call at the nearest aspect ratio, and reports a filtered one', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: json({ images: ['stable'], finish_reasons: [null], seeds: [1] }) });
    const result = await adapter.image!(target('stability.sd3-5-large-v1:0'), { prompt: 'dunes', n: 2, size: '1792x1024' });
    expect(result.images).toEqual(['stable', 'stable']);
    expect(sentBodies()).toEqual([
      { prompt: 'dunes', aspect_ratio: '16:9', output_format: 'png' },
      { prompt: 'dunes', aspect_ratio: '16:9', output_format: 'png' },
    ]);

    bedrock.on(InvokeModelCommand).resolves({ body: json({ images: [''], finish_reasons: ['Filter reason: prompt'] }) });
    await expect(adapter.image!(target('stability.stable-image-ultra-v1:1'), { prompt: 'x', n: 1 })).rejects.toMatchObject({
      kind: 'content_filter',
    });
  });

  it('refuses a size SD3, Ultra and Core cannot make (they take an aspect ratio and make 1024-class images), naming it', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: json({ images: ['stable'], finish_reasons: [null] }) });
    for (const model of ['stability.sd3-large-v1:0', 'stability.stable-image-ultra-v1:0', 'us.stability.stable-image-core-v1:1'])
      for (const size of ['256x256', '512x512'])
        await expect(adapter.image!(target(model), { prompt: 'p', n: 1, size }), `${model} ${size}`).rejects.toMatchObject({
          kind: 'invalid',
          options: { param: 'size' },
        });
    expect(sentBodies()).toEqual([]);
    for (const size of ['1024x1024', '1024x1792', '1792x1024'])
      await adapter.image!(target('stability.stable-image-core-v1:1'), { prompt: 'p', n: 1, size });
    expect(sentBodies().map((body) => body.aspect_ratio)).toEqual(['1:1', '9:16', '16:9']);
    // SDXL is sent the size itself.
    bedrock.on(InvokeModelCommand).resolves({ body: json({ artifacts: [{ base64: 'sdxl', finishReason: 'SUCCESS' }] }) });
    await adapter.image!(target('stability.stable-diffusion-xl-v1'), { prompt: 'p', n: 1, size: '512x512' });
    expect(sentBodies().at(-1)).toMatchObject({ width: 512, height: 512 });
  });

  it('refuses what a model cannot make in its check step, before any key is used, as the model’s limit (UnsupportedError)', () => {
    const refusal = (check: () => void) => {
      try {
        check();
      } catch (error) {
        return error;
      }
    };
    for (const [check, param] of [
      [() => adapter.checkEmbed!(target('amazon.titan-embed-text-v1'), { input: ['x'], dimensions: 256 }), 'dimensions'],
      [() => adapter.checkImage!(target('stability.sd3-large-v1:0'), { prompt: 'p', n: 1, size: '512x512' }), 'size'],
      [() => adapter.checkImage!(target('amazon.nova-canvas-v1:0'), { prompt: 'p', n: 1, style: 'vivid' }), 'style'],
      [() => adapter.checkImage!(target('amazon.titan-image-generator-v2:0'), { prompt: 'p', n: 1, quality: 'low' }), 'quality'],
      [() => adapter.checkImage!(target('anthropic.claude-3-haiku-20240307-v1:0'), { prompt: 'p', n: 1 }), undefined],
      [() => adapter.checkEmbed!(target('anthropic.claude-3-haiku-20240307-v1:0'), { input: ['x'] }), undefined],
    ] as const) {
      const error = refusal(check);
      expect(error).toBeInstanceOf(UnsupportedError);
      expect(error).toMatchObject({ kind: 'invalid', options: param ? { param } : {} });
    }
    expect(
      refusal(() => adapter.checkImage!(target('stability.sd3-large-v1:0'), { prompt: 'p', n: 1, size: '1024x1024' })),
    ).toBeUndefined();
    expect(
      refusal(() => adapter.checkEmbed!(target('amazon.titan-embed-text-v2:0'), { input: ['x'], dimensions: 256 })),
    ).toBeUndefined();
    expect(sentBodies()).toEqual([]);
  });

  it('speaks SDXL’s older body', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: json({ artifacts: [{ base64: 'sdxl', finishReason: 'SUCCESS' }] }) });
    const result = await adapter.image!(target('stability.stable-diffusion-xl-v1'), { prompt: 'fox', n: 1, size: '1024x1024' });
    expect(result.images).toEqual(['sdxl']);
    expect(sentBodies()[0]).toEqual({ text_prompts: [{ text: 'fox' }], width: 1024, height: 1024, samples: 1 });
  });
});

describe('Bedrock errors', () => {
  it('classifies the SDK’s exceptions by name, then by HTTP status', () => {
    const cases: Array<[unknown, string]> = [
      [new ThrottlingException({ message: 'Too many requests', ...meta }), 'throttled'],
      [new ServiceUnavailableException({ message: 'down', ...meta }), 'server'],
      [new ModelNotReadyException({ message: 'warming', ...meta }), 'server'],
      [new ModelTimeoutException({ message: 'slow', ...meta }), 'timeout'],
      [new ValidationException({ message: 'bad input', ...meta }), 'invalid'],
      [new AccessDeniedException({ message: 'no access', ...meta }), 'auth'],
      [Object.assign(new Error('x'), { name: 'SomethingNew', $metadata: { httpStatusCode: 502 } }), 'server'],
      [Object.assign(new Error('x'), { name: 'SomethingNew', $metadata: { httpStatusCode: 429 } }), 'throttled'],
      [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'network'],
    ];
    expect(cases.map(([error]) => classify(error).kind)).toEqual(cases.map(([, kind]) => kind));
    expect(classify(new ThrottlingException({ message: 'x', ...meta })).retryable).toBe(true);
  });

  it('retries throttling, then falls back to the next Bedrock model', async () => {
    bedrock.on(ConverseCommand).callsFake((input: { modelId: string }) => {
      if (input.modelId === 'busy') throw new ThrottlingException({ message: 'Too many requests', ...meta });
      return {
        output: { message: { role: 'assistant', content: [{ text: `from ${input.modelId}` }] } },
        usage: { inputTokens: 1, outputTokens: 2 },
      };
    });
    const candidate = (model: string): Candidate => ({
      modelId: model,
      modelName: model,
      type: 'TEXT',
      pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
      target: target(model),
      keySource: 'platform',
      reason: 'test',
    });
    const waits: number[] = [];
    const result = await execute(
      [candidate('busy'), candidate('calm')],
      (c, options) => adapter.chat(c.target, { messages: [{ role: 'user', content: 'x' }] }, options),
      { cooldowns: new Cooldowns(), random: () => 1, sleep: async (ms) => void waits.push(ms) },
    );
    expect(result.value.text).toBe('from calm');
    expect(result.attempts.map((a) => `${a.modelId}:${a.outcome}`)).toEqual([
      'busy:throttled',
      'busy:throttled',
      'busy:throttled',
      'calm:ok',
    ]);
    expect(waits).toEqual([100, 200]);
    expect(bedrock.commandCalls(ConverseCommand).map((call) => call.args[0].input.modelId)).toEqual([
      'busy',
      'busy',
      'busy',
      'calm',
    ]);
  });
});
