import * as z from 'zod';
import { tag } from '../hub/schemas/common.ts';
import { ValidationError } from '../shared/errors.ts';
import { countableUsage } from './pricing.ts';
import { IMAGE_QUALITIES, IMAGE_STYLES } from './types.ts';
import type { ChatChunk, ChatMessage, ChatRequest, ChatResult, FinishReason, TokenUsage } from './types.ts';

/**
 * OpenAI's wire format, as the gateway serves it: request schemas (zod, so OpenAPI documents
 * them and bad input is a 400), and the answers built from our normalised results. Fields an
 * OpenAI client may send that do not change the answer (`user`, `seed`, penalties…) are
 * accepted and ignored (`null` as absent, as some clients send unset fields); features we do
 * not serve (tools, functions and a choice of them, several choices, log probabilities and logit
 * bias, JSON modes, audio output, web search) are refused clearly instead of being silently dropped.
 */
const text = z.string().max(200_000);
const contentPart = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text }),
  z.object({
    type: z.literal('image_url'),
    image_url: z.object({ url: z.string().min(1).max(20_000_000), detail: z.enum(['auto', 'low', 'high']).optional() }),
  }),
]);

const message = z.object({
  // `developer` is OpenAI's newer name for system instructions.
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([text, z.array(contentPart).min(1).max(100)]),
  name: z.string().max(64).optional(),
});

const unsupported = (what: string) =>
  z
    .unknown()
    .optional()
    .refine(
      (v) => v === undefined || v === null || (Array.isArray(v) && v.length === 0),
      `${what} are not supported by this gateway`,
    );

/**
 * A field that asks for something the gateway cannot serve: taken absent, `null`, or with a value
 * that asks for nothing more than a plain text answer (`harmless`); anything else is a 400 naming it.
 */
const servedOnly = (message: string, harmless: (v: unknown) => boolean = () => false) =>
  z
    .unknown()
    .optional()
    .refine((v) => v === undefined || v === null || harmless(v), message);
const isEmptyObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && !Object.keys(v).length;

/**
 * `x-route-tags: batch,eu`: tags a call carries for routing rules (a rule with a `tags` condition
 * applies to a call that carries every one of its tags). Tags are those of the rules' schema,
 * lower-case, at most 20 a call; an empty or missing header carries none.
 */
export const ROUTE_TAGS_HEADER = 'x-route-tags';
const MAX_ROUTE_TAGS = 20;
const routeTagsHeader = z
  .string()
  .max(1_000)
  .transform((v) => [
    ...new Set(
      v
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ])
  .pipe(z.array(tag).max(MAX_ROUTE_TAGS, `At most ${MAX_ROUTE_TAGS} tags`));

/** The routing tags of a request's headers; a 400 naming the header when they are not valid. */
export function routeTags(headers: Record<string, string | undefined> | undefined): string[] | undefined {
  const header = headers?.[ROUTE_TAGS_HEADER];
  if (header === undefined) return undefined;
  const parsed = routeTagsHeader.safeParse(header);
  if (parsed.success) return parsed.data.length ? parsed.data : undefined;
  throw new ValidationError(
    'The x-route-tags header is not valid',
    parsed.error.issues.map((issue) => ({
      path: ['headers', ROUTE_TAGS_HEADER, ...issue.path.map(String)].join('.'),
      message: issue.message,
    })),
  );
}

export const modelName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[^\p{Cc}#]+$/u, 'A model id or alias');

export const chatCompletionBody = z.looseObject({
  model: modelName,
  messages: z.array(message).min(1).max(1_000),
  max_tokens: z.number().int().min(1).max(200_000).nullish(),
  max_completion_tokens: z.number().int().min(1).max(200_000).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop: z.union([z.string().min(1).max(100), z.array(z.string().min(1).max(100)).max(4)]).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  n: z
    .number()
    .int()
    .nullish()
    .refine((n) => n === undefined || n === null || n === 1, 'Only n = 1 is supported'),
  user: z.string().max(256).nullish(),
  tools: unsupported('Tools'),
  functions: unsupported('Functions'),
  // Without tools there is no tool to choose: `none` and `auto` mean the same, anything else cannot be served.
  tool_choice: z
    .unknown()
    .optional()
    .refine((v) => v === undefined || v === null || v === 'none' || v === 'auto', 'Tools are not supported by this gateway'),
  // The legacy form of `tool_choice`: a function to call (`{"name": …}`) cannot be served either.
  function_call: servedOnly('Functions are not supported by this gateway', (v) => v === 'none' || v === 'auto'),
  // Answers are text: audio output (`modalities` with `audio`, and its `audio` settings) cannot be served.
  modalities: servedOnly(
    'Only text output is served: modalities other than ["text"] are not supported',
    (v) => Array.isArray(v) && v.length === 1 && v[0] === 'text',
  ),
  audio: servedOnly('Audio output is not supported by this gateway'),
  web_search_options: servedOnly('Web search is not supported by this gateway'),
  // No provider is sent a bias, so an empty one is the only one honoured.
  logit_bias: servedOnly('Logit bias is not supported by this gateway', isEmptyObject),
  response_format: z
    .object({ type: z.string().max(50) })
    .loose()
    .nullish()
    .refine((v) => !v || v.type === 'text', 'Only plain text is served: JSON modes (json_object, json_schema) are not supported'),
  logprobs: z
    .boolean()
    .nullish()
    .refine((v) => !v, 'Log probabilities are not supported'),
  top_logprobs: servedOnly('Log probabilities are not supported', (v) => v === 0),
});
export type ChatCompletionBody = z.output<typeof chatCompletionBody>;

/** Our normalised request from OpenAI's. */
export function toChatRequest(body: ChatCompletionBody, defaultMaxTokens: number): ChatRequest {
  const messages: ChatMessage[] = body.messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content:
      typeof m.content === 'string'
        ? m.content
        : m.content.map((p) =>
            p.type === 'text'
              ? p
              : {
                  type: 'image_url',
                  image_url: { url: p.image_url.url, ...(p.image_url.detail ? { detail: p.image_url.detail } : {}) },
                },
          ),
    ...(m.name ? { name: m.name } : {}),
  }));
  const stop = body.stop === null || body.stop === undefined ? undefined : Array.isArray(body.stop) ? body.stop : [body.stop];
  return {
    messages,
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? defaultMaxTokens,
    ...(body.temperature !== null && body.temperature !== undefined ? { temperature: body.temperature } : {}),
    ...(body.top_p !== null && body.top_p !== undefined ? { topP: body.top_p } : {}),
    ...(stop ? { stop } : {}),
  };
}

/** The usage a client is told: what the call was metered on (`countableUsage`), not the provider's raw figures. */
function openAiUsage(reported: TokenUsage) {
  const { inputTokens = 0, outputTokens = 0 } = countableUsage(reported).usage;
  return { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens };
}

const finish = (reason: FinishReason) => (reason === 'error' ? 'stop' : reason);

export function chatCompletion(id: string, model: string, created: number, result: ChatResult) {
  return {
    id,
    object: 'chat.completion' as const,
    created,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: result.text },
        finish_reason: finish(result.finishReason),
        logprobs: null,
      },
    ],
    usage: openAiUsage(result.usage),
  };
}

/** One server-sent event. */
export const sse = (data: unknown) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

/**
 * OpenAI's chunks from our stream: a first chunk with the role, one per delta, one with the
 * finish reason, then (always, as `stream_options.include_usage` asks) a last chunk with the
 * usage and no choices, then `[DONE]`.
 */
export function chatChunks(id: string, model: string, created: number) {
  const base = { id, object: 'chat.completion.chunk' as const, created, model };
  return {
    role: () => sse({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
    of: (chunk: Extract<ChatChunk, { type: 'delta' }>) =>
      sse({ ...base, choices: [{ index: 0, delta: { content: chunk.text }, finish_reason: null }] }),
    finish: (reason: FinishReason) => sse({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finish(reason) }] }),
    usage: (usage: TokenUsage) => sse({ ...base, choices: [], usage: openAiUsage(usage) }),
    /** OpenAI's error shape, as every error answer has it: `param` is null, no parameter being at fault mid-stream. */
    error: (error: { message: string; type: string; code: string | null }) => sse({ error: { ...error, param: null } }),
    done: () => sse('[DONE]'),
  };
}

/**
 * The largest body a model call takes (chat completions with an image inline as a data URL, a
 * batch of texts to embed): 5 MiB, within the 6 MB a Lambda request holds with the rest of it.
 */
export const MODEL_INPUT_BYTES = 5 * 1024 * 1024;
const MAX_EMBEDDING_INPUTS = 256;
/** The longest text to embed, as text or as the text a token array decodes to (tokens.ts). */
export const MAX_EMBEDDING_TEXT = 100_000;
/** cl100k_base's ordinary tokens are 0…100255; its special tokens (`<|endoftext|>`, …) are not text. */
const MAX_TOKEN_ID = 100_255;
/** The most tokens one input holds, as for OpenAI's embedding models. */
const MAX_INPUT_TOKENS = 8_192;
/** The most tokens one request holds, as OpenAI's embeddings take. */
const MAX_REQUEST_TOKENS = 300_000;
const isTokenId = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_TOKEN_ID;

/**
 * The shapes `input` takes, checked in one pass that stops at the first fault: a union of zod
 * arrays checks every element of every option and reports each (a batch of a million bad ids made
 * a million issues, hundreds of megabytes).
 */
function checkEmbeddingInput(input: string | unknown[], ctx: z.RefinementCtx) {
  if (typeof input === 'string') return;
  const fail = (message: string, path: number[] = []) => ctx.addIssue({ code: 'custom', message, path });
  if (input.every((v) => typeof v === 'string')) {
    if (input.length > MAX_EMBEDDING_INPUTS) return fail(`At most ${MAX_EMBEDDING_INPUTS} texts`);
    const bad = input.findIndex((text) => !text.length || text.length > MAX_EMBEDDING_TEXT);
    if (bad >= 0) fail(`A text is 1 to ${MAX_EMBEDDING_TEXT} characters`, [bad]);
    return;
  }
  const several = input.every(Array.isArray);
  const arrays = several ? (input as unknown[][]) : [input];
  if (arrays.length > MAX_EMBEDDING_INPUTS) return fail(`At most ${MAX_EMBEDDING_INPUTS} token arrays`);
  let total = 0;
  for (const [i, ids] of arrays.entries()) {
    const path = several ? [i] : [];
    if (!ids.length || ids.length > MAX_INPUT_TOKENS) return fail(`A token array holds 1 to ${MAX_INPUT_TOKENS} ids`, path);
    if (!ids.every(isTokenId))
      return fail(`Send texts, or token ids: integers from 0 to ${MAX_TOKEN_ID} (cl100k_base), not both`, path);
    total += ids.length;
  }
  if (total > MAX_REQUEST_TOKENS) fail(`At most ${MAX_REQUEST_TOKENS} tokens in all`);
}

export const embeddingsBody = z.looseObject({
  model: modelName,
  input: z
    .union([z.string().min(1).max(MAX_EMBEDDING_TEXT), z.array(z.unknown()).min(1).max(MAX_INPUT_TOKENS)])
    .superRefine(checkEmbeddingInput)
    .describe(
      `A text, up to ${MAX_EMBEDDING_INPUTS} texts, or the same as arrays of cl100k_base token ids (up to ${MAX_INPUT_TOKENS} an array, ${MAX_REQUEST_TOKENS} in all)`,
    ),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().min(1).max(4_096).nullish(),
  user: z.string().max(256).nullish(),
});
export type EmbeddingsBody = z.output<typeof embeddingsBody>;

export function embeddingsAnswer(model: string, vectors: number[][], inputTokens: number, format: 'float' | 'base64' = 'float') {
  const { prompt_tokens } = openAiUsage({ inputTokens, outputTokens: 0 });
  return {
    object: 'list' as const,
    data: vectors.map((vector, index) => ({
      object: 'embedding' as const,
      index,
      embedding: format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
    })),
    model,
    usage: { prompt_tokens, total_tokens: prompt_tokens },
  };
}

/** OpenAI's sizes: DALL·E's, gpt-image's landscape and portrait, and `auto` (the model's default size). */
export const IMAGE_SIZES = [
  '256x256',
  '512x512',
  '1024x1024',
  '1024x1792',
  '1792x1024',
  '1536x1024',
  '1024x1536',
  'auto',
] as const;

export const imagesBody = z.looseObject({
  model: modelName.optional(),
  prompt: z.string().trim().min(1).max(4_000),
  n: z.number().int().min(1).max(4).nullish(),
  size: z.enum(IMAGE_SIZES).nullish(),
  response_format: z
    .enum(['b64_json', 'url'])
    .nullish()
    .refine((v) => v !== 'url', 'Only response_format b64_json is served: images are returned inline'),
  // Images come whole, in one JSON answer: a client asking for a stream of partial images would not read it.
  stream: servedOnly('Streamed images are not supported: images are returned whole', (v) => v === false),
  // Sent on as OpenAI takes them; a model whose provider cannot make them refuses them (a 400 naming the field).
  quality: z.enum(IMAGE_QUALITIES).nullish(),
  style: z.enum(IMAGE_STYLES).nullish(),
  // gpt-image's output options are sent to no provider, and the image comes as its model makes it
  // (PNG, or JPEG from some): asking for a format is refused, and so is any other value than `auto`.
  output_format: servedOnly('output_format is not supported: images come as their model makes them (PNG, or JPEG)'),
  output_compression: servedOnly('output_compression is not supported: images come as their model makes them'),
  background: servedOnly('background is not supported: only auto (the model decides)', (v) => v === 'auto'),
  moderation: servedOnly('moderation is not supported: only auto (the provider decides)', (v) => v === 'auto'),
  user: z.string().max(256).nullish(),
});
export type ImagesBody = z.output<typeof imagesBody>;

/** The answers, described for OpenAPI (the gateway writes them itself). */
export const chatCompletionResponse = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number(),
      message: z.object({ role: z.literal('assistant'), content: z.string() }),
      finish_reason: z.string(),
      // Log probabilities are never served (a request for them is refused): always null, as OpenAI answers without them.
      logprobs: z.null(),
    }),
  ),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() }),
});
export const embeddingsResponse = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({ object: z.literal('embedding'), index: z.number(), embedding: z.union([z.array(z.number()), z.string()]) }),
  ),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number(), total_tokens: z.number() }),
});
export const imagesResponse = z.object({ created: z.number(), data: z.array(z.object({ b64_json: z.string() })) });
export const modelResponse = z.object({ id: z.string(), object: z.literal('model'), created: z.number(), owned_by: z.string() });
export const modelsResponse = z.object({ object: z.literal('list'), data: z.array(modelResponse) });
