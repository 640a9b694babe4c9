import { defineRoute } from '@platform/http/route';
import {
  chatCompletionBody,
  chatCompletionResponse,
  embeddingsBody,
  embeddingsResponse,
  imagesBody,
  imagesResponse,
  MODEL_INPUT_BYTES,
  modelResponse,
  modelsResponse,
} from '@platform/domain/gateway/openai';
import { modelIdParams, modelMetricsQuery, modelMetricsResponse } from '@platform/domain/gateway/metrics-schemas';

/**
 * The AI gateway, OpenAI-compatible: an OpenAI client works by changing only its base URL and
 * key. Served by one streaming function (`surface: 'gateway'`), authenticated there by an API
 * key or a user's access token; a user picks the organization with `OpenAI-Organization`, and
 * any caller may tag a call for routing rules with `x-route-tags: a,b`.
 */
const tag = 'AI gateway';
const handler = 'gateway/openai';
const surface = 'gateway' as const;
/**
 * What a model call can answer beyond its kind: no credits to reserve 402, no such model 404, a
 * refused concurrent ledger write 409, content the provider refused 422, the provider failing 502
 * or not answering in time 504.
 */
const modelCallFailures = [402, 404, 409, 422, 502, 504] as const;

export const createChatCompletion = defineRoute({
  id: 'createChatCompletion',
  method: 'POST',
  path: '/openai/v1/chat/completions',
  handler,
  surface,
  auth: 'principal',
  consumes: 'chat',
  tag,
  summary:
    'A chat completion; `stream: true` answers server-sent events with the usage in the last chunk; `x-route-tags: a,b` tags the call for routing rules',
  errors: modelCallFailures,
  maxBodyBytes: MODEL_INPUT_BYTES,
  streams:
    'With `stream: true`: server-sent events, each a `data: {…}` line and a blank line. The first chunk (`object: "chat.completion.chunk"`, the id, `created` and model of the call) has `choices[0].delta` `{"role":"assistant","content":""}`, the next ones `{"content": …}` in order, then one with `delta` `{}` and the `finish_reason`; the last chunk has no choices and the call’s `usage`. Then `data: [DONE]`. A failure mid-stream is one `data: {"error":{…}}` event (OpenAI’s error shape) before `[DONE]`.',
  schemas: { body: chatCompletionBody, response: chatCompletionResponse },
});
export const createEmbeddings = defineRoute({
  id: 'createEmbeddings',
  method: 'POST',
  path: '/openai/v1/embeddings',
  handler,
  surface,
  auth: 'principal',
  consumes: 'embeddings',
  tag,
  summary: 'Embeddings of one text or several',
  errors: modelCallFailures,
  maxBodyBytes: MODEL_INPUT_BYTES,
  schemas: { body: embeddingsBody, response: embeddingsResponse },
});
export const createImages = defineRoute({
  id: 'createImages',
  method: 'POST',
  path: '/openai/v1/images/generations',
  handler,
  surface,
  auth: 'principal',
  consumes: 'generation',
  tag,
  summary: 'Images from a prompt, returned inline as base64',
  errors: modelCallFailures,
  schemas: { body: imagesBody, response: imagesResponse },
});
export const listOpenAiModels = defineRoute({
  id: 'listOpenAiModels',
  method: 'GET',
  path: '/openai/v1/models',
  handler,
  surface,
  auth: 'principal',
  tag,
  summary: 'The models the caller’s organization can call',
  errors: [400, 404],
  schemas: { response: modelsResponse },
});
export const getOpenAiModel = defineRoute({
  id: 'getOpenAiModel',
  method: 'GET',
  path: '/openai/v1/models/{modelId}',
  handler,
  surface,
  auth: 'principal',
  tag,
  summary: 'One of the models the caller’s organization can call, by its id (an OpenAI client’s models.retrieve)',
  errors: [400, 404],
  schemas: { params: modelIdParams, response: modelResponse },
});

export const getModelMetrics = defineRoute({
  id: 'getModelMetrics',
  method: 'GET',
  path: '/v1/models/{modelId}/metrics',
  handler: 'gateway/get-model-metrics',
  auth: 'user',
  refusesDeletedAccount: true,
  tag,
  summary:
    'A model’s latency (p50, p95), error rate, tokens and cost over a range: one organization’s calls, or every call for platform admins',
  schemas: { params: modelIdParams, query: modelMetricsQuery, response: modelMetricsResponse },
});
