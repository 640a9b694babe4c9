import { inflateSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../types.ts';
import type { ChatChunk, ChatRequest, Target } from '../types.ts';
import { adapter } from './local.ts';

const target: Target = { adapter: 'local', providerSlug: 'local', providerModelId: 'local-text' };
const ask = (text: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: text },
  ],
  ...extra,
});

async function collect(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function pngSize(base64: string): { width: number; height: number; pixels: Buffer } {
  const png = Buffer.from(base64, 'base64');
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.toString('ascii', 12, 16)).toBe('IHDR');
  const idatLength = png.readUInt32BE(33);
  expect(png.toString('ascii', 37, 41)).toBe('IDAT');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), pixels: inflateSync(png.subarray(41, 41 + idatLength)) };
}

describe('the local model', () => {
  beforeEach(() => {
    process.env.LOCAL_MODEL_DELAY_MS = '0';
  });
  afterEach(() => {
    delete process.env.LOCAL_MODEL_DELAY_MS;
  });

  it('answers with a labelled reply derived from the prompt, the same every time', async () => {
    const first = await adapter.chat(target, ask('What is the capital of France?'));
    const again = await adapter.chat(target, ask('What is the capital of France?'));
    const other = await adapter.chat(target, ask('Write a haiku'));
    expect(first.text).toMatch(/^\[local model\] /);
    expect(first.text).toContain('"What is the capital of France?"');
    expect(first).toEqual(again);
    expect(other.text).not.toBe(first.text);
    expect(first.finishReason).toBe('stop');
    expect(first.usage.inputTokens).toBeGreaterThan(5);
    expect(first.usage.outputTokens).toBe(first.text.split(' ').length);
  });

  it('stops at maxTokens with finish reason length, and before a stop sequence', async () => {
    const short = await adapter.chat(target, ask('Hello there', { maxTokens: 3 }));
    expect(short.usage.outputTokens).toBe(3);
    expect(short.finishReason).toBe('length');
    expect(short.text).toBe('[local model] You ');
    const stopped = await adapter.chat(target, ask('Hello there', { stop: ['wrote'] }));
    expect(stopped.text).toBe('[local model] You ');
    expect(stopped.finishReason).toBe('stop');
  });

  it('streams the same answer in small chunks, then one done with the usage', async () => {
    const whole = await adapter.chat(target, ask('Stream this please'));
    const chunks = await collect(adapter.chatStream(target, ask('Stream this please')));
    const deltas = chunks.filter((chunk) => chunk.type === 'delta');
    expect(deltas.length).toBeGreaterThan(10);
    expect(deltas.map((chunk) => chunk.text).join('')).toBe(whole.text);
    expect(chunks.at(-1)).toEqual({ type: 'done', finishReason: 'stop', usage: whole.usage });
    expect(chunks.filter((chunk) => chunk.type === 'done')).toHaveLength(1);
  });

  it('paces the stream by LOCAL_MODEL_DELAY_MS and times out within timeoutMs', async () => {
    process.env.LOCAL_MODEL_DELAY_MS = '30';
    const started = Date.now();
    const chunks: ChatChunk[] = [];
    const error = await (async () => {
      for await (const chunk of adapter.chatStream(target, ask('slow'), { timeoutMs: 10 })) chunks.push(chunk);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('timeout');
    expect(chunks).toHaveLength(0);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('stops when the caller aborts, as a cancelled call', async () => {
    process.env.LOCAL_MODEL_DELAY_MS = '5';
    const controller = new AbortController();
    const chunks: ChatChunk[] = [];
    const error = await (async () => {
      for await (const chunk of adapter.chatStream(target, ask('go on'), { signal: controller.signal })) {
        chunks.push(chunk);
        if (chunks.length === 2) controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(chunks).toHaveLength(2);
    expect(error).toMatchObject({ kind: 'network', message: expect.stringContaining('cancelled') });
    await expect(adapter.chat(target, ask('x'), { signal: controller.signal })).rejects.toMatchObject({ kind: 'network' });
  });

  it('embeds deterministically as unit vectors of the asked dimensions', async () => {
    const result = await adapter.embed!(target, { input: ['alpha', 'beta', 'alpha'], dimensions: 64 });
    expect(result.vectors).toHaveLength(3);
    for (const vector of result.vectors) {
      expect(vector).toHaveLength(64);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 10);
    }
    expect(result.vectors[0]).toEqual(result.vectors[2]);
    expect(result.vectors[0]).not.toEqual(result.vectors[1]);
    expect(result.usage.inputTokens).toBe(5); // 2 + 1 + 2
    expect((await adapter.embed!(target, { input: ['x'] })).vectors[0]).toHaveLength(1024);
    await expect(adapter.embed!(target, { input: ['x'], dimensions: 0 })).rejects.toMatchObject({ kind: 'invalid' });
  });

  it('draws valid PNGs of the asked size, deterministic per prompt and variation', async () => {
    const result = await adapter.image!(target, { prompt: 'a red fox', n: 2, size: '64x32' });
    expect(result.usage.images).toBe(2);
    const [first, second] = result.images.map(pngSize);
    expect(first).toMatchObject({ width: 64, height: 32 });
    expect(first!.pixels.length).toBe(32 * (1 + 64 * 3));
    expect(first!.pixels.equals(second!.pixels)).toBe(false);
    const again = await adapter.image!(target, { prompt: 'a red fox', n: 1, size: '64x32' });
    expect(again.images[0]).toBe(result.images[0]);
    expect(pngSize((await adapter.image!(target, { prompt: 'x', n: 1 })).images[0]!)).toMatchObject({ width: 256, height: 256 });
    await expect(adapter.image!(target, { prompt: 'x', n: 1, size: 'huge' })).rejects.toMatchObject({ kind: 'invalid' });
    await expect(adapter.image!(target, { prompt: 'x', n: 11 })).rejects.toMatchObject({ kind: 'invalid' });
  });

  it('draws every size OpenAI names, the tall and wide ones too, and nothing past their longest side', async () => {
    for (const size of ['1024x1792', '1792x1024'] as const) {
      const [width, height] = size.split('x').map(Number);
      const { images } = await adapter.image!(target, { prompt: 'a lighthouse', n: 1, size });
      expect(pngSize(images[0]!), size).toMatchObject({ width, height });
    }
    await expect(adapter.image!(target, { prompt: 'x', n: 1, size: '1793x16' })).rejects.toMatchObject({ kind: 'invalid' });
  });
});
