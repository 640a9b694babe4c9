/**
 * OpenAI, and any server that speaks its API (a provider's `baseUrl`; default the OpenAI API):
 * /chat/completions (streamed with `stream_options.include_usage`, so the last chunk carries the
 * usage), /embeddings and /images/generations (base64 answers). Messages go as the client sent them,
 * an image's `detail` included. Config: `organization` and `project` become OpenAI's headers.
 *
 * The output cap goes by the name the server knows: OpenAI's own API (the `openai` provider's
 * default base URL, any `api.openai.com` host) is sent `max_completion_tokens`, because its
 * reasoning models (o-series, gpt-5) refuse the deprecated `max_tokens`; any other compatible server
 * (the `openai` provider given another base URL, or another provider on this adapter) is sent
 * `max_tokens`, the name they all know (some refuse unknown fields). Config `tokenLimitParam`
 * (`max_tokens` or `max_completion_tokens`) overrides that, e.g. for a proxy in front of OpenAI.
 */
import { estimateTextTokens, estimateTokens } from '../pricing.ts';
import { ProviderError } from '../types.ts';
import type { Adapter, ChatChunk, ChatRequest, FinishReason, Target, TokenUsage } from '../types.ts';
import { embeddingVectors, isObject, textField, tokenCount } from './answers.ts';
import { eventJson, joinUrl, postForEvents, postJson, streamErrorKind } from './http.ts';
import { redactSecret } from '../../shared/redact.ts';
import type { HttpCall } from './http.ts';

const PROVIDER = 'OpenAI';
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
const OPENAI_HOST = 'api.openai.com';
const TOKEN_LIMIT_PARAMS = ['max_tokens', 'max_completion_tokens'] as const;

/**
 * The answers as the server sends them: any field may be missing or of another type (a compatible
 * server is anyone's), so each is checked before it is read (`isObject`, `Array.isArray`).
 */
interface Completion {
  choices?: unknown;
  usage?: unknown;
}

interface CompletionChunk {
  choices?: unknown;
  usage?: unknown;
  error?: unknown;
}

function call(target: Target, path: string, body: unknown): HttpCall {
  const config = target.config ?? {};
  const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
  return {
    provider: PROVIDER,
    url: joinUrl(target.baseUrl ?? DEFAULT_BASE_URL, path),
    headers: {
      authorization: target.apiKey ? `Bearer ${target.apiKey}` : undefined,
      'openai-organization': text(config.organization),
      'openai-project': text(config.project),
    },
    body,
    secret: target.apiKey,
  };
}

/** Whether the base URL is OpenAI's own API (or one of its regional hosts, `eu.api.openai.com`). */
function isOpenAiItself(baseUrl: string): boolean {
  let host: string;
  try {
    host = new URL(baseUrl).hostname;
  } catch {
    return false;
  }
  return host === OPENAI_HOST || host.endsWith(`.${OPENAI_HOST}`);
}

/** The name the server knows the output cap by (see the header). */
function tokenLimitParam(target: Target): (typeof TOKEN_LIMIT_PARAMS)[number] {
  const configured = TOKEN_LIMIT_PARAMS.find((param) => param === target.config?.tokenLimitParam);
  return configured ?? (isOpenAiItself(target.baseUrl ?? DEFAULT_BASE_URL) ? 'max_completion_tokens' : 'max_tokens');
}

function chatBody(target: Target, request: ChatRequest, stream: boolean) {
  return {
    model: target.providerModelId,
    messages: request.messages.map(({ role, content, name }) => ({ role, content, ...(name ? { name } : {}) })),
    [tokenLimitParam(target)]: request.maxTokens,
    temperature: request.temperature,
    top_p: request.topP,
    stop: request.stop?.length ? request.stop : undefined,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
}

function finishReasonOf(reason: unknown): FinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'content_filter') return 'content_filter';
  return 'stop';
}

function usageOf(usage: Record<string, unknown>): TokenUsage {
  return { inputTokens: tokenCount(usage.prompt_tokens), outputTokens: tokenCount(usage.completion_tokens) };
}

/** The first of an answer's choices, when it is an object. */
function firstChoice(choices: unknown): Record<string, unknown> | undefined {
  const choice: unknown = Array.isArray(choices) ? choices[0] : undefined;
  return isObject(choice) ? choice : undefined;
}

/**
 * The embeddings of an answer's `data` in the inputs' order: each goes to the input its `index`
 * names (an item without one, to its place in the list), and the indexes must be 0 … n-1 once each.
 * A vector for the same input twice, or for none, would be handed to the wrong input if it were
 * renumbered by position: it is the server failing.
 */
function inputOrder(data: unknown, inputs: number): unknown[] {
  const items: unknown[] = Array.isArray(data) ? data : [];
  if (items.length !== inputs)
    throw new ProviderError('server', `${PROVIDER} answered ${items.length} embeddings for ${inputs} inputs`);
  const vectors: unknown[] = new Array(inputs);
  const placed = new Set<number>();
  items.forEach((item, position) => {
    const index: unknown = isObject(item) && item.index !== undefined && item.index !== null ? item.index : position;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= inputs || placed.has(index))
      throw new ProviderError('server', `${PROVIDER} answered embeddings whose indexes are not 0 to ${inputs - 1} once each`);
    placed.add(index);
    vectors[index] = isObject(item) ? item.embedding : undefined;
  });
  return vectors;
}

export const adapter: Adapter = {
  kind: 'openai',

  async chat(target, request, options) {
    const answer = await postJson<Completion>(call(target, '/chat/completions', chatBody(target, request, false)), options);
    const choice = firstChoice(answer.choices);
    if (!choice || !isObject(choice.message)) throw new ProviderError('server', `${PROVIDER} answered without a choice`);
    const text = textField(choice.message.content);
    const refusal = textField(choice.message.refusal);
    if (!text && refusal) throw new ProviderError('content_filter', `${PROVIDER} refused: ${refusal}`);
    return {
      text,
      finishReason: finishReasonOf(choice.finish_reason),
      // Some compatible servers omit usage; then meter the estimate rather than nothing.
      usage: isObject(answer.usage)
        ? usageOf(answer.usage)
        : { inputTokens: estimateTokens(request), outputTokens: estimateTextTokens(text) },
    };
  },

  async *chatStream(target, request, options): AsyncGenerator<ChatChunk> {
    let finishReason: FinishReason | undefined;
    let usage: TokenUsage | undefined;
    let text = '';
    for await (const event of postForEvents(call(target, '/chat/completions', chatBody(target, request, true)), options)) {
      if (event.data === '[DONE]') break;
      const chunk = eventJson<CompletionChunk>(PROVIDER, event);
      if (chunk.error) {
        const message = (isObject(chunk.error) && textField(chunk.error.message)) || 'unknown error';
        const failed = `${PROVIDER} failed mid-stream: ${redactSecret(message, target.apiKey).slice(0, 300)}`;
        throw new ProviderError(streamErrorKind(chunk.error), failed);
      }
      const choice = firstChoice(chunk.choices);
      const delta = isObject(choice?.delta) ? textField(choice.delta.content) : '';
      if (delta) {
        text += delta;
        yield { type: 'delta', text: delta };
      }
      if (choice?.finish_reason) finishReason = finishReasonOf(choice.finish_reason);
      if (isObject(chunk.usage)) usage = usageOf(chunk.usage);
    }
    // A complete answer (it said how it finished) from a compatible server that ignores
    // include_usage: meter the estimate, as without streaming. Without a finish it broke off.
    if (!usage && finishReason) usage = { inputTokens: estimateTokens(request), outputTokens: estimateTextTokens(text) };
    if (!usage) throw new ProviderError('network', `${PROVIDER}'s stream ended before its usage`);
    yield { type: 'done', finishReason: finishReason ?? 'stop', usage };
  },

  async embed(target, request, options) {
    const answer = await postJson<{ data?: unknown; usage?: unknown }>(
      call(target, '/embeddings', {
        model: target.providerModelId,
        input: request.input,
        dimensions: request.dimensions,
        encoding_format: 'float',
      }),
      options,
    );
    const reported = isObject(answer.usage) ? answer.usage.prompt_tokens : undefined;
    return {
      vectors: embeddingVectors(PROVIDER, inputOrder(answer.data, request.input.length), request.input.length),
      usage: {
        inputTokens:
          (reported as number | null | undefined) ?? request.input.reduce((sum, text) => sum + estimateTextTokens(text), 0),
      },
    };
  },

  async image(target, request, options) {
    // gpt-image models always answer base64 and refuse the parameter; DALL·E needs it.
    const base64 = target.providerModelId.startsWith('gpt-image') ? {} : { response_format: 'b64_json' };
    const answer = await postJson<{ data?: unknown }>(
      call(target, '/images/generations', {
        model: target.providerModelId,
        prompt: request.prompt,
        n: request.n,
        size: request.size,
        quality: request.quality,
        style: request.style,
        ...base64,
      }),
      options,
    );
    const images = (Array.isArray(answer.data) ? answer.data : [])
      .map((item: unknown) => (isObject(item) ? textField(item.b64_json) : ''))
      .filter((image) => !!image);
    if (!images.length) throw new ProviderError('server', `${PROVIDER} answered without an image`);
    return { images, usage: { images: images.length } };
  },
};
