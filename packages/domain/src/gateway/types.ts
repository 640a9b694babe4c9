/**
 * The gateway's contracts (DOMAIN.md §3). Three parts meet here:
 * - the catalogue (providers, models, credentials, routing rules) answers `resolveRoute` with
 *   an ordered list of candidates and why;
 * - the adapters (one file per provider) speak to a provider for one candidate;
 * - the executor walks the candidates with retries, backoff, fallbacks and cooldowns, and the
 *   gateway meters what it got (limits, credits, usage log, model metric).
 *
 * Everything is in the OpenAI-like shape the gateway serves, normalised: tokens are counted by
 * the provider when it reports them, costs are micro-USD (1 USD = 1_000_000).
 */

/** How we speak to a provider. A provider row names one; "any OpenAI-compatible base URL" is `openai`. */
export const ADAPTER_KINDS = ['bedrock', 'openai', 'anthropic', 'google', 'local'] as const;
export type AdapterKind = (typeof ADAPTER_KINDS)[number];

export const MODEL_TYPES = ['TEXT', 'CODE', 'IMAGE', 'VOICE', 'VIDEO'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

export interface TextPart {
  type: 'text';
  text: string;
}
export interface ImagePart {
  type: 'image_url';
  /** `detail` (OpenAI's resolution for the image) goes to OpenAI-compatible servers; the others have no such field. */
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}
export type ContentPart = TextPart | ImagePart;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ContentPart[];
  /** Who said it, in a conversation of several: OpenAI-compatible providers take it; the others have no such field. */
  name?: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'error';

export interface ChatResult {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
}

/** A stream yields text deltas, then exactly one `done` with the provider's usage. */
export type ChatChunk = { type: 'delta'; text: string } | { type: 'done'; finishReason: FinishReason; usage: TokenUsage };

export interface EmbeddingRequest {
  input: string[];
  dimensions?: number;
}
export interface EmbeddingResult {
  vectors: number[][];
  usage: { inputTokens: number };
}

/** OpenAI's image qualities (`standard` / `hd` for DALL·E 3, `low` … `high` for gpt-image, `auto` either's default). */
export const IMAGE_QUALITIES = ['auto', 'standard', 'hd', 'low', 'medium', 'high'] as const;
/** OpenAI's image styles (DALL·E 3). */
export const IMAGE_STYLES = ['vivid', 'natural'] as const;

export interface ImageRequest {
  prompt: string;
  n: number;
  size?: string;
  /** As the client asked; an adapter sends it as its provider names it, or refuses it (`invalid`, `param`) when it cannot. */
  quality?: (typeof IMAGE_QUALITIES)[number];
  style?: (typeof IMAGE_STYLES)[number];
}
export interface ImageResult {
  /** Base64 PNG or JPEG. */
  images: string[];
  usage: { images: number };
}

/** One place to call: the adapter, the provider's model id and whose key. */
export interface Target {
  adapter: AdapterKind;
  providerSlug: string;
  /** The provider's own id of the model, e.g. `anthropic.claude-3-haiku-20240307-v1:0`. */
  providerModelId: string;
  /** Decrypted key for this call only; never logged, never stored in results. */
  apiKey?: string;
  baseUrl?: string;
  /** The provider's config (validated against its JSON Schema): region, api version, … */
  config?: Record<string, unknown>;
}

/** The timeout the key's config sets for its calls (`timeoutMs`, which the providers' config schemas offer), if any. */
export function keyTimeoutMs(target: Target): number | undefined {
  const own = target.config?.timeoutMs;
  return typeof own === 'number' && Number.isFinite(own) && own > 0 ? own : undefined;
}

export interface CallOptions {
  signal?: AbortSignal;
  /**
   * Milliseconds before the call counts as a timeout: for a stream, the wait for its first event
   * and every silence after it (progress restarts it).
   */
  timeoutMs?: number;
  /**
   * Milliseconds the whole call has, a stream to its last event included: progress does not
   * restart it. The executor sets it to the time left before its deadline (the function's end,
   * less what it needs to answer and record the call); past it the call fails with `OutOfTimeError`.
   */
  totalTimeoutMs?: number;
}

/** One file per provider implements this; the methods a provider lacks are absent. */
export interface Adapter {
  readonly kind: AdapterKind;
  chat(target: Target, request: ChatRequest, options?: CallOptions): Promise<ChatResult>;
  chatStream(target: Target, request: ChatRequest, options?: CallOptions): AsyncIterable<ChatChunk>;
  embed?(target: Target, request: EmbeddingRequest, options?: CallOptions): Promise<EmbeddingResult>;
  image?(target: Target, request: ImageRequest, options?: CallOptions): Promise<ImageResult>;
  /**
   * What the target's model cannot make or take of the request (`dimensions` of vectors of one
   * length, a size, style or quality it has not; an image it cannot read, a conversation with
   * nothing to answer), thrown as an `UnsupportedError` before anything is sent. `chat`,
   * `chatStream`, `embed` and `image` refuse it too (by the same rule); the gateway asks first,
   * before it uses the key, so that a call no provider saw spends none of the key's quota.
   */
  checkChat?(target: Target, request: ChatRequest): void;
  checkEmbed?(target: Target, request: EmbeddingRequest): void;
  checkImage?(target: Target, request: ImageRequest): void;
}

/**
 * What went wrong at a provider, classified once so the executor can decide:
 * throttled, server and timeout (and network) are retried and fall back; auth and invalid
 * (a bad request, a refused prompt) are the caller's and are answered as they are.
 */
export const PROVIDER_ERROR_KINDS = ['throttled', 'server', 'timeout', 'network', 'auth', 'invalid', 'content_filter'] as const;
export type ProviderErrorKind = (typeof PROVIDER_ERROR_KINDS)[number];

export class ProviderError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    /** `param`: the request's field an `invalid` error is about, which the client is told (OpenAI's `param`). */
    readonly options: { status?: number; retryAfterMs?: number; cause?: unknown; param?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ProviderError';
    this.retryable = kind === 'throttled' || kind === 'server' || kind === 'timeout' || kind === 'network';
  }
}

/**
 * What a model cannot make or take (an image size, style or quality it has not, `dimensions` of
 * vectors of one length, images or embeddings at all; in a chat, an image by URL or in a format it
 * cannot read, or only blank messages), refused before anything is sent. The limit is the
 * model's, not the request's: the executor moves on to the next candidate, which may make it, and
 * cools nothing down. Only when every candidate refused is it the answer: invalid, naming the field.
 */
export class UnsupportedError extends ProviderError {
  constructor(message: string, param?: string) {
    super('invalid', message, param ? { param } : {});
    this.name = 'UnsupportedError';
  }
}

/**
 * A call cut off because its execution ran out of time (`totalTimeoutMs`), not because the
 * provider fell silent: a timeout, but no fault of the provider's, so it cools nothing down.
 */
export class OutOfTimeError extends ProviderError {
  constructor(provider: string, totalTimeoutMs: number) {
    super('timeout', `${provider} did not finish within the ${totalTimeoutMs} ms the call had left`);
    this.name = 'OutOfTimeError';
  }
}

/**
 * A key whose quota is spent: throttled (a call with no other candidate is a 429 with the
 * window's end as Retry-After), but refused per call by its own counter, so no failure of the
 * provider's or the key's: it cools nothing down, and a raised quota serves the next call.
 */
export class QuotaSpentError extends ProviderError {
  constructor(message: string, retryAfterMs: number) {
    super('throttled', message, { retryAfterMs });
    this.name = 'QuotaSpentError';
  }
}

/**
 * A key its owner deleted, deactivated or changed since the call was routed to it: the attempt
 * is refused before anything is sent, as a refused key (auth), and the call falls back to its
 * next candidate. The provider did nothing wrong: it cools nothing down.
 */
export class KeyWithdrawnError extends ProviderError {
  constructor(message: string) {
    super('auth', message);
    this.name = 'KeyWithdrawnError';
  }
}

/** Prices of a model, micro-USD per million tokens (text) or per image. */
export interface ModelPricing {
  inputPerMTokMicros: number;
  outputPerMTokMicros: number;
  perImageMicros?: number;
}

/** One place the router may send a call, in order of preference. */
export interface Candidate {
  /** Our catalogue id of the model. */
  modelId: string;
  modelName: string;
  type: ModelType;
  pricing: ModelPricing;
  target: Target;
  /** Whose key pays: the platform's (credits are charged) or the organization's / user's own (BYOK: logged, not charged). */
  keySource: 'platform' | 'byok';
  credentialId?: string;
  /** The credential's owner (`org#…`, `user#…`, the platform), whose snapshot says whether it may still be used. */
  credentialOwner?: string;
  /**
   * The credential as routed (`credentialVersion`: its key, base URL and config): part of its
   * cooldown's target, so a rotated key is a new target, and checked before each attempt.
   */
  credentialVersion?: string;
  /** Short words for the `x-route` header and the usage log: rule, weight, fallback position. */
  reason: string;
}

export interface RouteRequest {
  orgId: string;
  userId?: string;
  apiClientId?: string;
  /** What the client asked for: a catalogue model id, a provider model id or an alias. */
  requestedModel: string;
  type: ModelType;
  planId: string;
  tags?: string[];
  /**
   * What the call does. Without it: `images` for IMAGE, else `embeddings` when the requested
   * model only embeds, else `chat`. Candidates that cannot do it are skipped.
   */
  operation?: GatewayOperation;
  /** A streamed chat: only models with the `stream` capability, of providers that stream, serve it. */
  stream?: boolean;
  /** The organization's apiKeyStrategy when the caller has it (authorization read the organization); read (and cached) otherwise. */
  apiKeyStrategy?: ApiKeyStrategy;
}

export type GatewayOperation = 'chat' | 'embeddings' | 'images';
export type ApiKeyStrategy = 'PLATFORM' | 'BYOK' | 'HYBRID';

export interface RoutePlan {
  candidates: Candidate[];
  /** The rule that decided, or `default` when no rule matched. */
  ruleId: string;
  explanation: string;
}
