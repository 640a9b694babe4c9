/**
 * Anthropic's Messages API (/v1/messages): the system prompt apart from the turns, images as base64
 * blocks, `max_tokens` always sent (the API requires it). A stream is message_start (input tokens),
 * content_block_delta (text), message_delta (stop reason, output tokens) and message_stop; an `error`
 * event mid-stream is the provider's failure. Config: `apiVersion` (default 2023-06-01).
 *
 * What OpenAI takes and Anthropic refuses is made acceptable here rather than failing the call:
 * turns are made to alternate (`alternatingTurns`), a temperature above Anthropic's maximum
 * of 1 (OpenAI's range is 0–2) is sent as 1, and whitespace-only stop sequences are dropped
 * (`nonBlankStops`). What it cannot take (an image by URL, only blank messages) is refused before
 * anything is sent (`checkChat`), so another candidate may take the request.
 */
import { ProviderError } from '../types.ts';
import type { Adapter, ChatChunk, ChatRequest, FinishReason, Target, TokenUsage } from '../types.ts';
import { isObject, textField, tokenCount } from './answers.ts';
import { eventJson, joinUrl, postForEvents, postJson } from './http.ts';
import { redactSecret } from '../../shared/redact.ts';
import type { HttpCall } from './http.ts';
import { alternatingTurns, checkConversation, inlineImage, nonBlankStops } from './messages.ts';
import type { Turn } from './messages.ts';

const PROVIDER = 'Anthropic';
const DEFAULT_BASE_URL = 'https://api.anthropic.com';
const DEFAULT_VERSION = '2023-06-01';
/** Sent when the caller sets no limit; the gateway normally passes the model's own maximum. */
const DEFAULT_MAX_TOKENS = 4_096;
const MAX_TEMPERATURE = 1;

/**
 * A message and a stream event as the server sends them: any field may be missing or of another
 * type (a base URL can name any server), so each is checked before it is read.
 */
interface Message {
  content?: unknown;
  stop_reason?: unknown;
  usage?: unknown;
}

interface StreamEvent {
  type?: unknown;
  message?: unknown;
  delta?: unknown;
  usage?: unknown;
  error?: unknown;
}

function content(turn: Turn) {
  return turn.parts.map((part) =>
    part.type === 'text'
      ? { type: 'text', text: part.text }
      : (({ mediaType, data }) => ({ type: 'image', source: { type: 'base64', media_type: mediaType, data } }))(
          inlineImage(part.image_url.url, PROVIDER),
        ),
  );
}

function call(target: Target, request: ChatRequest, stream: boolean): HttpCall {
  const { system, turns } = alternatingTurns(request.messages, PROVIDER);
  const version = typeof target.config?.apiVersion === 'string' ? target.config.apiVersion : DEFAULT_VERSION;
  return {
    provider: PROVIDER,
    url: joinUrl(target.baseUrl ?? DEFAULT_BASE_URL, '/v1/messages'),
    headers: { 'x-api-key': target.apiKey, 'anthropic-version': version },
    body: {
      model: target.providerModelId,
      system,
      messages: turns.map((turn) => ({ role: turn.role, content: content(turn) })),
      max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
      temperature: request.temperature === undefined ? undefined : Math.min(request.temperature, MAX_TEMPERATURE),
      top_p: request.topP,
      stop_sequences: nonBlankStops(request.stop),
      ...(stream ? { stream: true } : {}),
    },
    secret: target.apiKey,
  };
}

function finishReasonOf(reason: unknown): FinishReason {
  if (reason === 'max_tokens') return 'length';
  if (reason === 'refusal') return 'content_filter';
  return 'stop';
}

/** Input tokens include what was written to and read from the prompt cache: all of it is billed. */
function inputTokensOf(usage: Record<string, unknown>): number {
  return (
    tokenCount(usage.input_tokens) + tokenCount(usage.cache_creation_input_tokens) + tokenCount(usage.cache_read_input_tokens)
  );
}

/** The kind of an `error` event's type, as the HTTP statuses behind the same types would be classified. */
function streamError(error: unknown, secret: string | undefined): ProviderError {
  const type = isObject(error) ? textField(error.type) : '';
  const message = isObject(error) ? textField(error.message) : '';
  const kinds: Record<string, ProviderError['kind']> = {
    overloaded_error: 'server',
    api_error: 'server',
    rate_limit_error: 'throttled',
    invalid_request_error: 'invalid',
    authentication_error: 'auth',
    permission_error: 'auth',
  };
  return new ProviderError(
    Object.hasOwn(kinds, type) ? kinds[type]! : 'server',
    `${PROVIDER} failed mid-stream: ${redactSecret(message || type || 'unknown error', secret).slice(0, 300)}`,
  );
}

export const adapter: Adapter = {
  kind: 'anthropic',

  checkChat(_target, request) {
    checkConversation(request.messages, PROVIDER);
  },

  async chat(target, request, options) {
    const message = await postJson<Message>(call(target, request, false), options);
    if (!Array.isArray(message.content) || !isObject(message.usage))
      throw new ProviderError('server', `${PROVIDER} answered without content or usage`);
    return {
      text: message.content
        .map((block: unknown) => (isObject(block) && block.type === 'text' ? textField(block.text) : ''))
        .join(''),
      finishReason: finishReasonOf(message.stop_reason),
      usage: { inputTokens: inputTokensOf(message.usage), outputTokens: tokenCount(message.usage.output_tokens) },
    };
  },

  async *chatStream(target, request, options): AsyncGenerator<ChatChunk> {
    let inputTokens = 0;
    let usage: TokenUsage | undefined;
    let finishReason: FinishReason = 'stop';
    for await (const event of postForEvents(call(target, request, true), options)) {
      const data = eventJson<StreamEvent>(PROVIDER, event);
      const delta = isObject(data.delta) ? data.delta : {};
      switch (data.type) {
        case 'message_start':
          inputTokens = isObject(data.message) && isObject(data.message.usage) ? inputTokensOf(data.message.usage) : 0;
          break;
        case 'content_block_delta': {
          const text = delta.type === 'text_delta' ? textField(delta.text) : '';
          if (text) yield { type: 'delta', text };
          break;
        }
        case 'message_delta':
          finishReason = finishReasonOf(delta.stop_reason);
          // Cumulative output tokens; input tokens again only on some versions.
          if (isObject(data.usage))
            usage = { inputTokens: inputTokensOf(data.usage) || inputTokens, outputTokens: tokenCount(data.usage.output_tokens) };
          break;
        case 'message_stop':
          if (!usage) throw new ProviderError('network', `${PROVIDER}'s stream stopped before its usage`);
          yield { type: 'done', finishReason, usage };
          return;
        case 'error':
          throw streamError(data.error, target.apiKey);
      }
    }
    throw new ProviderError('network', `${PROVIDER}'s stream ended before message_stop`);
  },
};
