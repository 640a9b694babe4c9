/**
 * Anthropic's Messages API (/v1/messages): the system prompt apart from the turns, images as base64
 * blocks, `max_tokens` always sent (the API requires it). A stream is message_start (input tokens),
 * content_block_delta (text), message_delta (stop reason, output tokens) and message_stop; an `error`
 * event mid-stream is the provider's failure. Config: `apiVersion` (default 2023-06-01).
 *
 * What OpenAI takes and Anthropic refuses is made acceptable here rather than failing the call:
 * turns are made to alternate (`alternatingTurns`), and a temperature above Anthropic's maximum
 * of 1 (OpenAI's range is 0–2) is sent as 1.
 */
import { ProviderError } from '../types.ts';
import type { Adapter, ChatChunk, ChatRequest, FinishReason, Target, TokenUsage } from '../types.ts';
import { eventJson, joinUrl, postForEvents, postJson } from './http.ts';
import { redactSecret } from '../../shared/redact.ts';
import type { HttpCall } from './http.ts';
import { alternatingTurns, inlineImage } from './messages.ts';
import type { Turn } from './messages.ts';

const PROVIDER = 'Anthropic';
const DEFAULT_BASE_URL = 'https://api.anthropic.com';
const DEFAULT_VERSION = '2023-06-01';
/** Sent when the caller sets no limit; the gateway normally passes the model's own maximum. */
const DEFAULT_MAX_TOKENS = 4_096;
const MAX_TEMPERATURE = 1;

interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

interface Message {
  content?: Array<{ type: string; text?: string }>;
  stop_reason?: string | null;
  usage?: Usage;
}

type StreamEvent =
  | { type: 'message_start'; message: Message }
  | { type: 'content_block_delta'; delta: { type: string; text?: string } }
  | { type: 'message_delta'; delta: { stop_reason?: string | null }; usage?: Usage }
  | { type: 'message_stop' }
  | { type: 'error'; error?: { type?: string; message?: string } }
  | { type: 'ping' | 'content_block_start' | 'content_block_stop' };

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
      stop_sequences: request.stop?.length ? request.stop : undefined,
      ...(stream ? { stream: true } : {}),
    },
    secret: target.apiKey,
  };
}

function finishReasonOf(reason: string | null | undefined): FinishReason {
  if (reason === 'max_tokens') return 'length';
  if (reason === 'refusal') return 'content_filter';
  return 'stop';
}

/** Input tokens include what was written to and read from the prompt cache: all of it is billed. */
function inputTokensOf(usage: Usage): number {
  return (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
}

/** The kind of an `error` event's type, as the HTTP statuses behind the same types would be classified. */
function streamError(error: { type?: string; message?: string } | undefined, secret: string | undefined): ProviderError {
  const kinds: Record<string, ProviderError['kind']> = {
    overloaded_error: 'server',
    api_error: 'server',
    rate_limit_error: 'throttled',
    invalid_request_error: 'invalid',
    authentication_error: 'auth',
    permission_error: 'auth',
  };
  return new ProviderError(
    kinds[error?.type ?? ''] ?? 'server',
    `${PROVIDER} failed mid-stream: ${redactSecret(error?.message ?? error?.type ?? 'unknown error', secret).slice(0, 300)}`,
  );
}

export const adapter: Adapter = {
  kind: 'anthropic',

  async chat(target, request, options) {
    const message = await postJson<Message>(call(target, request, false), options);
    if (!message.content || !message.usage) throw new ProviderError('server', `${PROVIDER} answered without content or usage`);
    return {
      text: message.content.map((block) => (block.type === 'text' ? (block.text ?? '') : '')).join(''),
      finishReason: finishReasonOf(message.stop_reason),
      usage: { inputTokens: inputTokensOf(message.usage), outputTokens: message.usage.output_tokens ?? 0 },
    };
  },

  async *chatStream(target, request, options): AsyncGenerator<ChatChunk> {
    let inputTokens = 0;
    let usage: TokenUsage | undefined;
    let finishReason: FinishReason = 'stop';
    for await (const event of postForEvents(call(target, request, true), options)) {
      const data = eventJson<StreamEvent>(PROVIDER, event);
      switch (data.type) {
        case 'message_start':
          inputTokens = data.message.usage ? inputTokensOf(data.message.usage) : 0;
          break;
        case 'content_block_delta':
          if (data.delta.type === 'text_delta' && data.delta.text) yield { type: 'delta', text: data.delta.text };
          break;
        case 'message_delta':
          finishReason = finishReasonOf(data.delta.stop_reason);
          // Cumulative output tokens; input tokens again only on some versions.
          if (data.usage)
            usage = { inputTokens: inputTokensOf(data.usage) || inputTokens, outputTokens: data.usage.output_tokens ?? 0 };
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
