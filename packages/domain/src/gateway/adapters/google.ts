/**
 * Google's Gemini API: generateContent, streamGenerateContent?alt=sse (each event a partial answer;
 * the last carries the finish reason and the final usageMetadata) and batchEmbedContents (at most
 * 100 inputs a request, so more are sent as parallel batches). The key goes in the `x-goog-api-key`
 * header, never in the URL. Gemini reports no usage for embeddings: their input tokens are estimated.
 *
 * Gemini refuses an empty text part and a request without contents, both of which OpenAI takes (an
 * assistant turn with `content: ""`, a request that is only a system prompt): it is sent the turns
 * Anthropic is (`alternatingTurns`), so blank parts are dropped and a lone system prompt is the
 * user's turn. It takes a whitespace-only stop sequence, which Anthropic's models refuse. What it
 * cannot take (an image by URL, only blank messages) is refused before anything is sent (`checkChat`).
 */
import { estimateTextTokens } from '../pricing.ts';
import { ProviderError } from '../types.ts';
import type { Adapter, ChatChunk, ChatRequest, FinishReason, ProviderErrorKind, Target, TokenUsage } from '../types.ts';
import { embeddingVectors, isObject, textField, tokenCount } from './answers.ts';
import { eventJson, joinUrl, postForEvents, postJson } from './http.ts';
import { redactSecret } from '../../shared/redact.ts';
import type { HttpCall } from './http.ts';
import { alternatingTurns, checkConversation, inlineImage } from './messages.ts';
import type { Turn } from './messages.ts';

const PROVIDER = 'Gemini';

/** What an error event's status (google.rpc.Code) means, as the HTTP statuses it maps to would. */
const STREAM_ERROR_KINDS: Record<string, ProviderErrorKind> = {
  RESOURCE_EXHAUSTED: 'throttled',
  DEADLINE_EXCEEDED: 'timeout',
  UNAUTHENTICATED: 'auth',
  PERMISSION_DENIED: 'auth',
  INVALID_ARGUMENT: 'invalid',
  FAILED_PRECONDITION: 'invalid',
  NOT_FOUND: 'invalid',
};
const DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';
/** batchEmbedContents refuses more requests than this in one call. */
const EMBED_BATCH = 100;

/**
 * An answer (or a stream's event) as the server sends it: any field may be missing or of another
 * type (a base URL can name any server), so each is checked before it is read.
 */
interface GenerateContentResponse {
  candidates?: unknown;
  promptFeedback?: unknown;
  usageMetadata?: unknown;
  /** An error sent in place of the next event of a stream. */
  error?: unknown;
}

const BLOCKED_REASONS = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

function parts(turn: Turn) {
  return turn.parts.map((part) =>
    part.type === 'text'
      ? { text: part.text }
      : (({ mediaType, data }) => ({ inlineData: { mimeType: mediaType, data } }))(inlineImage(part.image_url.url, PROVIDER)),
  );
}

function modelUrl(target: Target, method: string): string {
  return joinUrl(target.baseUrl ?? DEFAULT_BASE_URL, `/models/${encodeURIComponent(target.providerModelId)}:${method}`);
}

function call(target: Target, method: string, body: unknown): HttpCall {
  return {
    provider: PROVIDER,
    url: modelUrl(target, method),
    headers: { 'x-goog-api-key': target.apiKey },
    body,
    secret: target.apiKey,
  };
}

function generateBody(request: ChatRequest) {
  const { system, turns } = alternatingTurns(request.messages, PROVIDER);
  return {
    contents: turns.map((turn) => ({ role: turn.role === 'assistant' ? 'model' : 'user', parts: parts(turn) })),
    systemInstruction: system ? { parts: [{ text: system }] } : undefined,
    generationConfig: {
      maxOutputTokens: request.maxTokens,
      temperature: request.temperature,
      topP: request.topP,
      stopSequences: request.stop?.length ? request.stop : undefined,
    },
  };
}

function finishReasonOf(reason: string | undefined): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (reason && BLOCKED_REASONS.has(reason)) return 'content_filter';
  return 'stop';
}

/** Thinking models bill their thoughts (`thoughtsTokenCount`) as output. */
function usageOf(usage: Record<string, unknown>): TokenUsage {
  return {
    inputTokens: tokenCount(usage.promptTokenCount),
    outputTokens: tokenCount(usage.candidatesTokenCount) + tokenCount(usage.thoughtsTokenCount),
  };
}

/** The answer's first candidate, when it is an object. */
function firstCandidate(response: GenerateContentResponse): Record<string, unknown> | undefined {
  const candidate: unknown = Array.isArray(response.candidates) ? response.candidates[0] : undefined;
  return isObject(candidate) ? candidate : undefined;
}

/** The first candidate's finish reason, if it gave one. */
const finishOf = (response: GenerateContentResponse) => textField(firstCandidate(response)?.finishReason) || undefined;

/** The answer's visible text (thoughts are not part of the answer). */
function textOf(response: GenerateContentResponse): string {
  const content = firstCandidate(response)?.content;
  const parts: unknown[] = isObject(content) && Array.isArray(content.parts) ? content.parts : [];
  return parts.map((part) => (isObject(part) && !part.thought ? textField(part.text) : '')).join('');
}

/** A prompt Gemini blocked comes back as 200 with no candidate and a block reason. */
function checkBlocked(response: GenerateContentResponse): void {
  const blockReason = isObject(response.promptFeedback) ? textField(response.promptFeedback.blockReason) : '';
  if (blockReason) throw new ProviderError('content_filter', `${PROVIDER} blocked the prompt (${blockReason})`);
}

export const adapter: Adapter = {
  kind: 'google',

  checkChat(_target, request) {
    checkConversation(request.messages, PROVIDER);
  },

  async chat(target, request, options) {
    const response = await postJson<GenerateContentResponse>(call(target, 'generateContent', generateBody(request)), options);
    checkBlocked(response);
    if (!firstCandidate(response) || !isObject(response.usageMetadata))
      throw new ProviderError('server', `${PROVIDER} answered without a candidate`);
    return {
      text: textOf(response),
      finishReason: finishReasonOf(finishOf(response)),
      usage: usageOf(response.usageMetadata),
    };
  },

  async *chatStream(target, request, options): AsyncGenerator<ChatChunk> {
    let finish: string | undefined;
    let usage: Record<string, unknown> | undefined;
    for await (const event of postForEvents(call(target, 'streamGenerateContent?alt=sse', generateBody(request)), options)) {
      const response = eventJson<GenerateContentResponse>(PROVIDER, event);
      if (response.error) {
        const status = isObject(response.error) ? textField(response.error.status) : '';
        const message = (isObject(response.error) && textField(response.error.message)) || status || 'unknown error';
        throw new ProviderError(
          Object.hasOwn(STREAM_ERROR_KINDS, status) ? STREAM_ERROR_KINDS[status]! : 'server',
          `${PROVIDER} failed mid-stream: ${redactSecret(message, target.apiKey).slice(0, 300)}`,
        );
      }
      checkBlocked(response);
      const text = textOf(response);
      if (text) yield { type: 'delta', text };
      finish = finishOf(response) ?? finish;
      if (isObject(response.usageMetadata)) usage = response.usageMetadata;
    }
    if (!finish || !usage) throw new ProviderError('network', `${PROVIDER}'s stream ended before its finish reason and usage`);
    yield { type: 'done', finishReason: finishReasonOf(finish), usage: usageOf(usage) };
  },

  async embed(target, request, options) {
    const model = `models/${target.providerModelId}`;
    const batches: string[][] = [];
    for (let i = 0; i < request.input.length; i += EMBED_BATCH) batches.push(request.input.slice(i, i + EMBED_BATCH));
    const answers = await Promise.all(
      batches.map(async (texts) => {
        const response = await postJson<{ embeddings?: unknown }>(
          call(target, 'batchEmbedContents', {
            requests: texts.map((text) => ({ model, content: { parts: [{ text }] }, outputDimensionality: request.dimensions })),
          }),
          options,
        );
        const embeddings: unknown[] = Array.isArray(response.embeddings) ? response.embeddings : [];
        const values = embeddings.map((embedding) => (isObject(embedding) ? embedding.values : undefined));
        return embeddingVectors(PROVIDER, values, texts.length);
      }),
    );
    return {
      // Promise.all keeps the batches' order, so the vectors are in the inputs' order.
      vectors: answers.flat(),
      usage: { inputTokens: request.input.reduce((sum, text) => sum + estimateTextTokens(text), 0) },
    };
  },
};
