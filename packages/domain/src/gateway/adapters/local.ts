/**
 * The local model: a deterministic stand-in for a provider in `npm run dev` and tests, with no network.
 * Every answer says it comes from the local model, and is derived from the prompt so the same request
 * always gets the same answer, token counts and images. Streams arrive word by word with a small delay
 * (LOCAL_MODEL_DELAY_MS, default 2 ms a chunk) so clients see real streaming.
 */
import { createHash } from 'node:crypto';
import { estimateTextTokens, estimateTokens } from '../pricing.ts';
import { UnsupportedError } from '../types.ts';
import type {
  Adapter,
  CallOptions,
  ChatChunk,
  ChatRequest,
  ChatResult,
  EmbeddingRequest,
  EmbeddingResult,
  FinishReason,
  ImageRequest,
  ImageResult,
  Target,
} from '../types.ts';
import { Deadline, withDeadline } from './deadline.ts';
import { textOf } from './messages.ts';
import { encodePng } from './png.ts';

const PROVIDER = 'The local model';
const DEFAULT_DELAY_MS = 2;
const DEFAULT_DIMENSIONS = 1024;
const MAX_DIMENSIONS = 8192;
const DEFAULT_IMAGE_SIDE = 256;
/** The longest side OpenAI’s sizes name (1024x1792, 1792x1024). */
const MAX_IMAGE_SIDE = 1792;
const MAX_IMAGES = 10;
const EXCERPT_CHARS = 120;

function chunkDelayMs(): number {
  const value = Number(process.env.LOCAL_MODEL_DELAY_MS);
  return Number.isFinite(value) && value >= 0 ? value : DEFAULT_DELAY_MS;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The full answer to a request, before any token limit or stop sequence. */
export function localAnswer(request: ChatRequest): string {
  const lastUser = request.messages.findLast((message) => message.role === 'user');
  const prompt = lastUser ? textOf(lastUser.content).replace(/\s+/g, ' ').trim() : '';
  const excerpt = prompt.length > EXCERPT_CHARS ? `${prompt.slice(0, EXCERPT_CHARS)}…` : prompt;
  const words = prompt ? prompt.split(' ').length : 0;
  const fingerprint = createHash('sha256').update(JSON.stringify(request.messages)).digest('hex').slice(0, 8);
  return (
    `[local model] You wrote ${words} word${words === 1 ? '' : 's'}: "${excerpt}". ` +
    `This is a deterministic reply from the local development model (answer ${fingerprint}); no AI provider was called.`
  );
}

interface Reply {
  pieces: string[];
  finishReason: FinishReason;
}

/** The answer cut into tokens (a word and its trailing space each), within maxTokens and before any stop sequence. */
function reply(request: ChatRequest): Reply {
  let text = localAnswer(request);
  let finishReason: FinishReason = 'stop';
  for (const stop of request.stop ?? []) {
    const at = stop ? text.indexOf(stop) : -1;
    if (at >= 0) text = text.slice(0, at);
  }
  let pieces: string[] = text.match(/\S+\s*/g) ?? [];
  if (request.maxTokens !== undefined && pieces.length > request.maxTokens) {
    pieces = pieces.slice(0, request.maxTokens);
    finishReason = 'length';
  }
  return { pieces, finishReason };
}

function usageOf(request: ChatRequest, pieces: string[]) {
  return { inputTokens: estimateTokens(request), outputTokens: pieces.length };
}

/** A unit vector derived from the text alone: SHA-256 in counter mode, mapped to [-1, 1], normalised. */
export function localEmbedding(text: string, dimensions: number): number[] {
  const vector: number[] = [];
  for (let block = 0; vector.length < dimensions; block++) {
    const digest = createHash('sha256').update(`${block}\u0000${text}`).digest();
    for (let i = 0; i < digest.length && vector.length < dimensions; i += 2) vector.push(digest.readUInt16BE(i) / 32767.5 - 1);
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

/** The size asked, if the local model makes it. */
function imageSize(size: string | undefined): { width: number; height: number } | undefined {
  if (size === undefined) return { width: DEFAULT_IMAGE_SIDE, height: DEFAULT_IMAGE_SIDE };
  const match = /^(\d{1,5})x(\d{1,5})$/.exec(size);
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  return match && width >= 1 && height >= 1 && width <= MAX_IMAGE_SIDE && height <= MAX_IMAGE_SIDE
    ? { width, height }
    : undefined;
}

/** What the local model cannot embed (more dimensions than it makes), refused before anything is made. */
function checkEmbed(_target: Target, request: EmbeddingRequest): void {
  const dimensions = request.dimensions ?? DEFAULT_DIMENSIONS;
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_DIMENSIONS)
    throw new UnsupportedError(`${PROVIDER} makes embeddings of 1 to ${MAX_DIMENSIONS} dimensions`, 'dimensions');
}

/**
 * What the local model cannot make of an image request (a size or count past its own), refused before
 * anything is made. A `quality` or `style` is taken, not refused: the local model stands in for any
 * image model (npm run dev routes the catalogue's to it), and its images are placeholders of the prompt.
 */
function checkImage(_target: Target, request: ImageRequest): void {
  if (!Number.isInteger(request.n) || request.n < 1 || request.n > MAX_IMAGES)
    throw new UnsupportedError(`${PROVIDER} makes 1 to ${MAX_IMAGES} images a request`, 'n');
  if (!imageSize(request.size))
    throw new UnsupportedError(`${PROVIDER} makes images of WIDTHxHEIGHT up to ${MAX_IMAGE_SIDE}x${MAX_IMAGE_SIDE}`, 'size');
}

/** A PNG derived from the prompt: a diagonal blend of two colours from its hash, with bands so variations differ. */
export function localImage(prompt: string, index: number, width: number, height: number): Buffer {
  const seed = createHash('sha256').update(`${index}\u0000${prompt}`).digest();
  const from = [seed[0]!, seed[1]!, seed[2]!];
  const to = [seed[3]!, seed[4]!, seed[5]!];
  const bands = 2 + (seed[6]! % 6);
  const span = Math.max(1, width + height - 2);
  return encodePng(width, height, (x, y) => {
    const t = (x + y) / span;
    const shade = Math.floor(((x * bands) / width) % 2) === 0 ? 1 : 0.85;
    return [0, 1, 2].map((c) => Math.round((from[c]! * (1 - t) + to[c]! * t) * shade)) as [number, number, number];
  });
}

export const adapter: Adapter = {
  kind: 'local',

  async chat(_target, request: ChatRequest, options?: CallOptions): Promise<ChatResult> {
    return withDeadline(PROVIDER, options, async () => {
      const { pieces, finishReason } = reply(request);
      return { text: pieces.join(''), finishReason, usage: usageOf(request, pieces) };
    });
  },

  async *chatStream(_target, request: ChatRequest, options?: CallOptions): AsyncIterable<ChatChunk> {
    const deadline = new Deadline(PROVIDER, options);
    try {
      const { pieces, finishReason } = reply(request);
      const delay = chunkDelayMs();
      for (const piece of pieces) {
        if (delay > 0) await deadline.race(sleep(delay));
        deadline.check();
        deadline.extend();
        yield { type: 'delta', text: piece };
      }
      deadline.check();
      yield { type: 'done', finishReason, usage: usageOf(request, pieces) };
    } finally {
      deadline.dispose();
    }
  },

  checkEmbed,
  checkImage,

  async embed(target, request: EmbeddingRequest, options?: CallOptions): Promise<EmbeddingResult> {
    return withDeadline(PROVIDER, options, async () => {
      checkEmbed(target, request);
      const dimensions = request.dimensions ?? DEFAULT_DIMENSIONS;
      return {
        vectors: request.input.map((text) => localEmbedding(text, dimensions)),
        usage: { inputTokens: request.input.reduce((sum, text) => sum + estimateTextTokens(text), 0) },
      };
    });
  },

  async image(target, request: ImageRequest, options?: CallOptions): Promise<ImageResult> {
    return withDeadline(PROVIDER, options, async () => {
      checkImage(target, request);
      const { width, height } = imageSize(request.size)!; // checkImage refused any other
      const images = Array.from({ length: request.n }, (_, index) =>
        localImage(request.prompt, index, width, height).toString('base64'),
      );
      return { images, usage: { images: images.length } };
    });
  },
};
