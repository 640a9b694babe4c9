/**
 * Amazon Bedrock through `@aws-sdk/client-bedrock-runtime`: Converse for chat, ConverseStream for
 * streams (usage from the closing metadata event), InvokeModel for embeddings (Titan text embeddings,
 * Cohere embed) and images (Titan Image Generator, Nova Canvas, Stability), each family with its own
 * request and response body. An image's `quality` goes to Titan and Nova Canvas as theirs (`hd` is
 * their premium); what a family cannot make (any `style`, a quality it has not, a size SD3 / Ultra /
 * Core do not make, `dimensions` of embeddings of one length) is refused, naming the field. The
 * SDK's own retries are off: the executor retries, falls back and cools down, and two layers of
 * retries would multiply the wait.
 *
 * Converse gets what OpenAI takes and Bedrock refuses made acceptable: turns that alternate
 * (`alternatingTurns`), and for Anthropic's models a temperature above their maximum of 1 (OpenAI's
 * range is 0–2) sent as 1 and no whitespace-only stop sequence (`nonBlankStops`). What it cannot
 * take (only blank messages, an image by URL or in a format other than PNG, JPEG, GIF or WebP) is
 * refused before anything is sent (`checkChat`), so another candidate may take the request.
 *
 * Credentials are the function's IAM role; a bring-your-own Bedrock API key (`apiKey`) is sent as a
 * bearer token instead. `config.region` picks another region than the function's.
 */
import { createHash } from 'node:crypto';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
} from '@aws-sdk/client-bedrock-runtime';
import type {
  BedrockRuntimeClientConfig,
  ContentBlock,
  ConverseStreamOutput,
  ImageFormat,
  Message,
  StopReason,
} from '@aws-sdk/client-bedrock-runtime';
import { awsClientConfig, reuseSigners } from '../../shared/aws.ts';
import { estimateTextTokens } from '../pricing.ts';
import { ProviderError, UnsupportedError } from '../types.ts';
import type {
  Adapter,
  CallOptions,
  ChatChunk,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResult,
  FinishReason,
  ImageRequest,
  ImageResult,
  ProviderErrorKind,
  Target,
  TokenUsage,
} from '../types.ts';
import { embeddingVectors, isObject, textField } from './answers.ts';
import { Deadline, withDeadline } from './deadline.ts';
import { alternatingTurns, checkConversation, inlineImage, nonBlankStops } from './messages.ts';
import type { InlineImage } from './messages.ts';

const PROVIDER = 'Bedrock';
const MAX_CLIENTS = 100;
const COHERE_BATCH = 96;
const TITAN_IMAGES_PER_CALL = 5;
const ANTHROPIC_MAX_TEMPERATURE = 1;

const clients = new Map<string, BedrockRuntimeClient>();

/** One client per region and key, reused across calls (its connections stay warm). */
function clientFor(target: Target): BedrockRuntimeClient {
  const base = awsClientConfig('bedrock');
  const region = typeof target.config?.region === 'string' ? target.config.region : base.region;
  const key = `${region}\u0000${target.apiKey ? createHash('sha256').update(target.apiKey).digest('hex') : ''}`;
  let client = clients.get(key);
  if (!client) {
    const config: BedrockRuntimeClientConfig = { ...base, region, maxAttempts: 1 };
    if (target.apiKey) Object.assign(config, { token: { token: target.apiKey }, authSchemePreference: ['httpBearerAuth'] });
    if (clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value!);
    client = reuseSigners(new BedrockRuntimeClient(config));
    clients.set(key, client);
  }
  return client;
}

const ERROR_KINDS: Record<string, ProviderErrorKind> = {
  ThrottlingException: 'throttled',
  ServiceQuotaExceededException: 'throttled',
  TooManyRequestsException: 'throttled',
  ServiceUnavailableException: 'server',
  InternalServerException: 'server',
  ModelNotReadyException: 'server',
  ModelErrorException: 'server',
  ModelStreamErrorException: 'server',
  ModelTimeoutException: 'timeout',
  AccessDeniedException: 'auth',
  UnrecognizedClientException: 'auth',
  ExpiredTokenException: 'auth',
  InvalidSignatureException: 'auth',
  CredentialsProviderError: 'auth',
  ValidationException: 'invalid',
  ResourceNotFoundException: 'invalid',
  ConflictException: 'invalid',
};

/** Bedrock's image models refuse a prompt with a ValidationException that says so. */
const CONTENT_FILTERED = /content filter|blocked by|guardrail/i;

/** The ProviderError for what the SDK threw: by the exception's name, else by its HTTP status. */
export function classify(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const {
    name = '',
    message = '',
    $metadata,
  } = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = $metadata?.httpStatusCode;
  let kind = ERROR_KINDS[name];
  if (!kind && status)
    kind = status === 429 ? 'throttled' : status >= 500 ? 'server' : status === 401 || status === 403 ? 'auth' : 'invalid';
  if (kind === 'invalid' && CONTENT_FILTERED.test(message)) kind = 'content_filter';
  if (!kind) return new ProviderError('network', `${PROVIDER} could not be reached`, { cause: error });
  return new ProviderError(kind, `${PROVIDER}: ${name}${message ? `: ${message.slice(0, 300)}` : ''}`, { status });
}

/** Run an SDK call within the deadline: its abort becomes the deadline's error, anything else is classified. */
async function sdk<T>(deadline: Deadline, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw deadline.signal.aborted ? deadline.failure(error) : classify(error);
  }
}

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** The Converse format of an inline image; one of another type is what Bedrock cannot read (another provider may). */
function imageFormat({ mediaType }: InlineImage): ImageFormat {
  const format = IMAGE_FORMATS[mediaType];
  if (!format) throw new UnsupportedError(`${PROVIDER} takes PNG, JPEG, GIF or WebP images, not ${mediaType}`, 'messages');
  return format;
}

/**
 * What Converse cannot take of a chat, before anything is sent: by the rules its input is built
 * with (`converseInput`), only blank messages, an image by URL or of a format it cannot read.
 */
function checkChat(_target: Target, request: ChatRequest): void {
  checkConversation(request.messages, PROVIDER, imageFormat);
}

function converseInput(target: Target, request: ChatRequest) {
  const { system, turns } = alternatingTurns(request.messages, PROVIDER);
  const anthropic = family(target.providerModelId).startsWith('anthropic.');
  const temperature =
    anthropic && request.temperature !== undefined
      ? Math.min(request.temperature, ANTHROPIC_MAX_TEMPERATURE)
      : request.temperature;
  const messages: Message[] = turns.map((turn) => ({
    role: turn.role,
    content: turn.parts.map((part): ContentBlock => {
      if (part.type === 'text') return { text: part.text };
      const image = inlineImage(part.image_url.url, PROVIDER);
      return { image: { format: imageFormat(image), source: { bytes: Buffer.from(image.data, 'base64') } } };
    }),
  }));
  return {
    modelId: target.providerModelId,
    messages,
    system: system ? [{ text: system }] : undefined,
    inferenceConfig: {
      maxTokens: request.maxTokens,
      temperature,
      topP: request.topP,
      // Claude refuses a whitespace-only stop sequence here as on Anthropic's API; other families take it.
      stopSequences: anthropic ? nonBlankStops(request.stop) : request.stop?.length ? request.stop : undefined,
    },
  };
}

function finishReasonOf(reason: StopReason | string | undefined): FinishReason {
  if (reason === 'max_tokens' || reason === 'model_context_window_exceeded') return 'length';
  if (reason === 'guardrail_intervened' || reason === 'content_filtered') return 'content_filter';
  return 'stop';
}

function usageOf(usage: { inputTokens?: number; outputTokens?: number } | undefined): TokenUsage | undefined {
  return usage ? { inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0 } : undefined;
}

const STREAM_EXCEPTIONS = [
  'internalServerException',
  'modelStreamErrorException',
  'validationException',
  'throttlingException',
  'serviceUnavailableException',
] as const;

/** An exception event in the stream, as the error it would have been as a response. */
function streamException(event: ConverseStreamOutput): ProviderError | undefined {
  for (const member of STREAM_EXCEPTIONS) {
    const exception = event[member] as { message?: string } | undefined;
    if (exception) {
      const name = member[0]!.toUpperCase() + member.slice(1);
      return classify(Object.assign(new Error(exception.message ?? name), { name }));
    }
  }
  return undefined;
}

/** A model id without its cross-region inference profile prefix (`us.`, `eu.`, `apac.`, `global.` …). */
function family(providerModelId: string): string {
  return providerModelId.replace(/^(us|us-gov|eu|apac|jp|au|ca|global)\./, '');
}

async function invokeJson<T>(target: Target, body: unknown, deadline: Deadline): Promise<T> {
  const response = await sdk(deadline, () =>
    clientFor(target).send(
      new InvokeModelCommand({
        modelId: target.providerModelId,
        contentType: 'application/json',
        accept: 'application/json',
        body: JSON.stringify(body),
      }),
      { abortSignal: deadline.signal },
    ),
  );
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(response.body));
  } catch {
    json = undefined;
  }
  // A model's body is its family's to shape: anything but an object is the model failing, not our TypeError.
  if (!isObject(json)) throw new ProviderError('server', `${PROVIDER} answered with malformed JSON`);
  return json as T;
}

/** Titan v2 and Cohere v4 make vectors of the length asked (`dimensions`); the others of one length. */
const takesDimensions = (target: Target) =>
  ['amazon.titan-embed-text-v2', 'cohere.embed-v4'].some((prefix) => family(target.providerModelId).startsWith(prefix));

/**
 * What the model cannot embed, before anything is sent: a model of no embedding family, or
 * `dimensions` for Titan v1 / G1 and Cohere v3, whose vectors have one length (asked for one,
 * the client would get vectors of another length than it asked for), refused naming it.
 */
function checkEmbed(target: Target, request: EmbeddingRequest): void {
  const model = family(target.providerModelId);
  if (!model.startsWith('amazon.titan-embed') && !model.startsWith('cohere.embed'))
    throw new UnsupportedError(`${PROVIDER} model ${target.providerModelId} makes no embeddings here`);
  if (request.dimensions !== undefined && !takesDimensions(target))
    throw new UnsupportedError(
      `${PROVIDER} model ${target.providerModelId} has no dimensions option: it makes vectors of one length`,
      'dimensions',
    );
}

async function embedTitan(
  target: Target,
  input: string[],
  dimensions: number | undefined,
  deadline: Deadline,
): Promise<EmbeddingResult> {
  const v2 = takesDimensions(target);
  const answers = await Promise.all(
    input.map((inputText) =>
      invokeJson<{ embedding?: unknown; inputTextTokenCount?: unknown }>(
        target,
        v2 ? { inputText, dimensions, normalize: true } : { inputText },
        deadline,
      ),
    ),
  );
  const vectors = embeddingVectors(
    PROVIDER,
    answers.map((answer) => answer.embedding),
    input.length,
  );
  const tokens = (answer: { inputTextTokenCount?: unknown }, i: number) =>
    (answer.inputTextTokenCount as number | null | undefined) ?? estimateTextTokens(input[i]!);
  return { vectors, usage: { inputTokens: answers.reduce((sum, answer, i) => sum + tokens(answer, i), 0) } };
}

async function embedCohere(
  target: Target,
  input: string[],
  dimensions: number | undefined,
  deadline: Deadline,
): Promise<EmbeddingResult> {
  const v4 = takesDimensions(target);
  const batches: string[][] = [];
  for (let i = 0; i < input.length; i += COHERE_BATCH) batches.push(input.slice(i, i + COHERE_BATCH));
  const answers = await Promise.all(
    batches.map((texts) =>
      invokeJson<{ embeddings?: unknown }>(
        target,
        v4
          ? { texts, input_type: 'search_document', embedding_types: ['float'], output_dimension: dimensions }
          : { texts, input_type: 'search_document', truncate: 'END' },
        deadline,
      ),
    ),
  );
  // v3 answers the vectors, v4 them by type; each must be an array of vectors.
  const vectors = answers.flatMap((answer): unknown[] => {
    const embeddings = isObject(answer.embeddings) ? answer.embeddings.float : answer.embeddings;
    return Array.isArray(embeddings) ? embeddings : [];
  });
  // Cohere on Bedrock reports no token count: estimated.
  return {
    vectors: embeddingVectors(PROVIDER, vectors, input.length),
    usage: { inputTokens: input.reduce((sum, text) => sum + estimateTextTokens(text), 0) },
  };
}

function dimensionsOf(size: string | undefined): { width: number; height: number } {
  const match = /^(\d{2,5})x(\d{2,5})$/.exec(size ?? '1024x1024');
  if (!match) throw new ProviderError('invalid', `${PROVIDER} takes image sizes as WIDTHxHEIGHT`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

/** The sizes SD3, Ultra and Core make the nearest of (by aspect ratio): OpenAI's 1024-class ones. */
const STABILITY_SIZES = ['1024x1024', '1024x1792', '1792x1024'];

const ASPECT_RATIOS = ['21:9', '16:9', '3:2', '5:4', '1:1', '4:5', '2:3', '9:16', '9:21'];

/** The Stability aspect ratio nearest to the asked size. */
function aspectRatioOf(size: string | undefined): string {
  const { width, height } = dimensionsOf(size);
  const ratio = (value: string) => {
    const [w, h] = value.split(':').map(Number);
    return Math.abs(Math.log(w! / h!) - Math.log(width / height));
  };
  return ASPECT_RATIOS.reduce((best, value) => (ratio(value) < ratio(best) ? value : best));
}

/**
 * Titan's and Nova Canvas's two qualities for OpenAI's: `hd` (and gpt-image's `high`) is their
 * `premium`; `standard` and `auto` (the default) their `standard`. They have nothing below it.
 */
const TITAN_QUALITIES: Partial<Record<NonNullable<ImageRequest['quality']>, 'standard' | 'premium'>> = {
  auto: 'standard',
  standard: 'standard',
  hd: 'premium',
  high: 'premium',
};

/**
 * An image option the model cannot honour, never dropped: another candidate may make it, and
 * when none can, the caller has it to change (a 400 naming the field).
 */
const cannotHonour = (target: Target, param: 'quality' | 'style' | 'size', value: string, makes: string) =>
  new UnsupportedError(`${PROVIDER} model ${target.providerModelId} cannot make ${param} ${value}: ${makes}`, param);

/** The family of a model that makes images here, if it does. */
function imageFamily(target: Target): 'titan-nova' | 'stability' | undefined {
  const model = family(target.providerModelId);
  if (model.startsWith('amazon.titan-image') || model.startsWith('amazon.nova-canvas')) return 'titan-nova';
  return model.startsWith('stability.') ? 'stability' : undefined;
}

/** SD3, Ultra and Core: Stability's models that take an aspect ratio, not a size (SDXL takes a size). */
const aspectRatioOnly = (target: Target) => !family(target.providerModelId).startsWith('stability.stable-diffusion-xl');

/** What the model cannot make of an image request (any `style`, a quality or size it has not), before anything is sent. */
function checkImage(target: Target, request: ImageRequest): void {
  const made = imageFamily(target);
  if (!made) throw new UnsupportedError(`${PROVIDER} model ${target.providerModelId} makes no images here`);
  if (request.style) throw cannotHonour(target, 'style', request.style, 'it has no styles');
  if (made === 'titan-nova') {
    if (!TITAN_QUALITIES[request.quality ?? 'standard'])
      throw cannotHonour(target, 'quality', request.quality!, 'it makes standard or hd images');
    return;
  }
  if (request.quality && request.quality !== 'standard' && request.quality !== 'auto')
    throw cannotHonour(target, 'quality', request.quality, 'it makes standard images');
  // SD3, Ultra and Core make about a megapixel: a smaller size would be answered with a larger image than asked for.
  if (aspectRatioOnly(target) && request.size && !STABILITY_SIZES.includes(request.size))
    throw cannotHonour(target, 'size', request.size, `it makes ${STABILITY_SIZES.join(', ')} images`);
}

async function imagesTitanNova(target: Target, request: ImageRequest, deadline: Deadline): Promise<string[]> {
  const quality = TITAN_QUALITIES[request.quality ?? 'standard']!; // checkImage refused any other
  const { width, height } = dimensionsOf(request.size);
  const calls: number[] = [];
  for (let left = request.n; left > 0; left -= TITAN_IMAGES_PER_CALL) calls.push(Math.min(left, TITAN_IMAGES_PER_CALL));
  const answers = await Promise.all(
    calls.map((numberOfImages) =>
      invokeJson<{ images?: unknown; error?: unknown }>(
        target,
        {
          taskType: 'TEXT_IMAGE',
          textToImageParams: { text: request.prompt },
          imageGenerationConfig: { numberOfImages, width, height, quality },
        },
        deadline,
      ),
    ),
  );
  const failed = answers.map((answer) => textField(answer.error)).find(Boolean);
  if (failed) throw new ProviderError(CONTENT_FILTERED.test(failed) ? 'content_filter' : 'server', `${PROVIDER}: ${failed}`);
  // An answer without an image is the model failing (retried, then the next candidate), not an empty list for the client.
  const images = answers.map((answer) => (Array.isArray(answer.images) ? answer.images.map(textField).filter(Boolean) : []));
  if (images.some((made) => !made.length)) throw new ProviderError('server', `${PROVIDER} answered without an image`);
  return images.flat();
}

async function imagesStability(target: Target, request: ImageRequest, deadline: Deadline): Promise<string[]> {
  const sdxl = !aspectRatioOnly(target);
  const { width, height } = dimensionsOf(request.size);
  const one = async (): Promise<string> => {
    if (sdxl) {
      const answer = await invokeJson<{ artifacts?: unknown }>(
        target,
        { text_prompts: [{ text: request.prompt }], width, height, samples: 1 },
        deadline,
      );
      const artifact: unknown = Array.isArray(answer.artifacts) ? answer.artifacts[0] : undefined;
      if (isObject(artifact) && artifact.finishReason === 'CONTENT_FILTERED')
        throw new ProviderError('content_filter', `${PROVIDER} filtered the image`);
      const image = isObject(artifact) ? textField(artifact.base64) : '';
      if (!image) throw new ProviderError('server', `${PROVIDER} answered without an image`);
      return image;
    }
    const answer = await invokeJson<{ images?: unknown; finish_reasons?: unknown }>(
      target,
      { prompt: request.prompt, aspect_ratio: aspectRatioOf(request.size), output_format: 'png' },
      deadline,
    );
    const reason: unknown = Array.isArray(answer.finish_reasons) ? answer.finish_reasons[0] : undefined;
    if (reason) throw new ProviderError('content_filter', `${PROVIDER} filtered the image: ${String(reason)}`);
    const image = Array.isArray(answer.images) ? textField(answer.images[0]) : '';
    if (!image) throw new ProviderError('server', `${PROVIDER} answered without an image`);
    return image;
  };
  return Promise.all(Array.from({ length: request.n }, one));
}

export const adapter: Adapter = {
  kind: 'bedrock',

  chat(target, request, options) {
    return withDeadline(PROVIDER, options, async (deadline) => {
      const input = converseInput(target, request);
      const response = await sdk(deadline, () =>
        clientFor(target).send(new ConverseCommand(input), { abortSignal: deadline.signal }),
      );
      const usage = usageOf(response.usage);
      if (!usage) throw new ProviderError('server', `${PROVIDER} answered without usage`);
      const text = (response.output?.message?.content ?? []).map((block) => block.text ?? '').join('');
      return { text, finishReason: finishReasonOf(response.stopReason), usage };
    });
  },

  async *chatStream(target, request, options?: CallOptions): AsyncGenerator<ChatChunk> {
    const deadline = new Deadline(PROVIDER, options);
    let events: AsyncIterator<ConverseStreamOutput> | undefined;
    let finished = false;
    try {
      const input = converseInput(target, request);
      const response = await deadline.race(
        sdk(deadline, () => clientFor(target).send(new ConverseStreamCommand(input), { abortSignal: deadline.signal })),
      );
      if (!response.stream) throw new ProviderError('server', `${PROVIDER} answered without a stream`);
      events = response.stream[Symbol.asyncIterator]();
      let finishReason: FinishReason = 'stop';
      let usage: TokenUsage | undefined;
      for (;;) {
        const next = await deadline.next(events).catch((error: unknown) => {
          throw deadline.signal.aborted ? deadline.failure(error) : classify(error);
        });
        if (next.done) break;
        const event = next.value;
        const failure = streamException(event);
        if (failure) throw failure;
        const text = event.contentBlockDelta?.delta?.text;
        if (text) yield { type: 'delta', text };
        if (event.messageStop) finishReason = finishReasonOf(event.messageStop.stopReason);
        if (event.metadata) usage = usageOf(event.metadata.usage);
      }
      finished = true;
      if (!usage) throw new ProviderError('network', `${PROVIDER}'s stream ended before its usage`);
      yield { type: 'done', finishReason, usage };
    } catch (error) {
      throw deadline.failure(error);
    } finally {
      if (!finished) events?.return?.()?.catch(() => undefined);
      deadline.dispose();
    }
  },

  checkChat,
  checkEmbed,
  checkImage,

  embed(target, request, options) {
    return withDeadline(PROVIDER, options, async (deadline) => {
      checkEmbed(target, request);
      const embed = family(target.providerModelId).startsWith('cohere.embed') ? embedCohere : embedTitan;
      return embed(target, request.input, request.dimensions, deadline);
    });
  },

  image(target, request, options): Promise<ImageResult> {
    return withDeadline(PROVIDER, options, async (deadline) => {
      checkImage(target, request);
      const make = imageFamily(target) === 'stability' ? imagesStability : imagesTitanNova;
      const images = await make(target, request, deadline);
      return { images, usage: { images: images.length } };
    });
  },
};
