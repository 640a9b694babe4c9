import type { Caller } from '../identity/access.ts';
import {
  DomainError,
  GatewayTimeoutError,
  PaymentRequiredError,
  TooManyRequestsError,
  UnprocessableError,
  UpstreamError,
  ValidationError,
} from '../shared/errors.ts';
import { consumeCredentialQuota, credentialWithdrawn } from '../hub/credentials.ts';
import { gatewayAccess } from './access.ts';
import { adapterFor } from './adapters/registry.ts';
import {
  ExecutionError,
  execute,
  executeStream,
  explainAttempts,
  failedAttempt,
  type Attempt,
  type ExecuteOptions,
} from './executor.ts';
import { admit, record, type Admission, type CallRecord, type MeteredCall } from './metering.ts';
import {
  chatChunks,
  chatCompletion,
  embeddingsAnswer,
  toChatRequest,
  type ChatCompletionBody,
  type EmbeddingsBody,
  type ImagesBody,
} from './openai.ts';
import { costOf, creditsFor, estimateCredits, estimateTextTokens, estimateTokens } from './pricing.ts';
import { resolveRoute } from './routing.ts';
import { embeddingInput } from './tokens.ts';
import {
  KeyWithdrawnError,
  ProviderError,
  QuotaSpentError,
  UnsupportedError,
  type Adapter,
  type Candidate,
  type ChatRequest,
  type GatewayOperation,
  type ModelType,
  type RoutePlan,
  type TokenUsage,
} from './types.ts';

/**
 * The gateway's calls (DOMAIN.md §3, workflow 2): who acts for which organization, which model
 * and key serve the call (the router), limits and the credit hold (one transaction), the
 * provider call with retries and fallbacks (the executor), then the settlement, usage log and
 * model metric (one transaction, after the client has its answer). Answers are OpenAI's.
 */
export type Principal = Exclude<Caller, { kind: 'anonymous' }>;

export interface GatewayCall {
  principal: Principal;
  /** The `OpenAI-Organization` header, if any. */
  orgId?: string;
  requestId: string;
  /** The client went away. */
  signal: AbortSignal;
  /** What the route consumes (manifest `consumes`). */
  resource?: string;
  /** The call's routing tags (`x-route-tags`), for rules with a `tags` condition. */
  tags?: string[];
  /**
   * When the providers must be done, in ms since the epoch: the function's own end, less the time
   * it needs to answer and record the call. No attempt starts after it, and each attempt's timeout
   * is cut to it; past it the call is a 504, or a stream still running is cut off (an error frame).
   */
  deadline?: number;
}

export interface GatewayReply {
  headers: Record<string, string>;
  /** Time spent waiting on providers (every attempt; to the first chunk for a stream), for the overhead header. */
  providerMs?: number;
  json?: unknown;
  sse?: AsyncIterable<string>;
  after?: () => Promise<void>;
}

/** The most a reply may write when the client does not say (and what the hold covers). */
export const DEFAULT_MAX_TOKENS = 1_024;
/**
 * A provider that takes longer than this to answer (or, streaming, between chunks) times out,
 * unless the key that serves the call sets its own `timeoutMs` (the executor applies it), and
 * never past the call's deadline.
 */
const CALL_TIMEOUT_MS = 60_000;

interface Admitted {
  metered: MeteredCall;
  plan: RoutePlan;
  admission: Admission;
  requestAt: Date;
}

/** The route and the admission of a call: what each kind of call shares. */
async function admitCall(
  call: GatewayCall,
  requestedModel: string,
  type: ModelType,
  operation: GatewayOperation,
  agentType: MeteredCall['agentType'],
  estimate: (candidate: Candidate) => number,
  stream = false,
): Promise<Admitted> {
  const requestAt = new Date();
  const access = await gatewayAccess(call.principal, call.orgId);
  const caller = access.caller;
  const plan = await resolveRoute({
    orgId: access.orgId,
    ...(caller.kind === 'apiClient' ? { apiClientId: caller.clientId } : { userId: caller.userId }),
    requestedModel,
    type,
    operation,
    ...(stream ? { stream } : {}),
    planId: access.org.planId ?? 'free',
    ...(call.tags?.length ? { tags: call.tags } : {}),
    apiKeyStrategy: access.org.apiKeyStrategy,
  });
  const metered: MeteredCall = { access, requestId: call.requestId, agentType, resource: call.resource };
  // The hold covers the dearest platform-paid candidate, so any fallback is covered too.
  const hold = (candidates: Candidate[]) => Math.max(0, ...candidates.filter((c) => c.keySource === 'platform').map(estimate));
  try {
    return { metered, plan, admission: await admit(metered, hold(plan.candidates)), requestAt };
  } catch (error) {
    // HYBRID: the platform's key only backs up the organization's own. A balance too short for
    // it leaves the own keys to serve the call alone, as they would without that backup (a
    // refused admission counted nothing, so it is asked again).
    if (!(error instanceof PaymentRequiredError) || plan.candidates[0]?.keySource !== 'byok') throw explained(error, plan, []);
    const own = plan.candidates.filter((c) => c.keySource === 'byok');
    const ownOnly = { ...plan, candidates: own, explanation: `${plan.explanation} no-platform-backup=balance` };
    try {
      return { metered, plan: ownOnly, admission: await admit(metered, hold(own)), requestAt };
    } catch (again) {
      throw explained(again, ownOnly, []);
    }
  }
}

/**
 * Before each attempt, a key, an own key's or the platform's alike, is checked as it is used:
 * - one its owner deleted, deactivated or rotated since the call was routed is not sent (a call
 *   runs for up to minutes of retries and fallbacks): the attempt is refused as the key's
 *   (`KeyWithdrawnError`) and the executor falls back. Its owner's snapshot answers, from memory
 *   in steady state; a change made in this process is seen at once, another instance's within
 *   the snapshot's TTL.
 * - a spent quota is skipped like a throttled key, its Retry-After the end of the spent window
 *   (so the executor falls back at once, and a call with no other candidate is a 429), but it
 *   cools nothing down (`QuotaSpentError`).
 */
async function useKey(candidate: Candidate) {
  const key = candidate.keySource === 'platform' ? "the platform's key" : 'the key';
  const withdrawn = await credentialWithdrawn(candidate);
  if (withdrawn) throw new KeyWithdrawnError(`For ${candidate.modelId}, ${key} was ${withdrawn} while this call ran`);
  try {
    await consumeCredentialQuota(candidate);
  } catch (error) {
    if (!(error instanceof TooManyRequestsError)) throw error;
    throw new QuotaSpentError(
      `The quota of ${key} for ${candidate.modelId} is spent: ${error.message}`,
      Number(error.headers['retry-after'] ?? 3_600) * 1_000,
    );
  }
}

const routeHeader = (plan: RoutePlan, attempts: Attempt[]) => ({
  'x-route': `${plan.ruleId}; ${plan.explanation}; ${explainAttempts(attempts)}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 1_000),
});

/** An error answered to a call whose route was decided, with that route (`x-route`), as every answer of it has. */
function explained(error: unknown, plan: RoutePlan, attempts: Attempt[]): unknown {
  if (error instanceof DomainError) Object.assign(error.headers, routeHeader(plan, attempts));
  return error;
}

/**
 * What the client is told of a provider's failure, before the answer or in a stream's error frame.
 * The platform's own key refused: what the provider said is about the platform's account (an AWS
 * account id and role in Bedrock's AccessDenied), for the logs, not for the client. One withdrawn
 * by an admin during the call was refused by no provider, and says only that.
 */
function shownFailure(error: ProviderError, served: Pick<Attempt, 'modelId' | 'keySource'> | undefined): string {
  const platformKeyRefused = error.kind === 'auth' && !(error instanceof KeyWithdrawnError) && served?.keySource === 'platform';
  return platformKeyRefused ? `${served!.modelId}: the provider refused the platform's credentials` : error.message;
}

/**
 * How a failed execution is answered: the request's fault stays a 4xx; when the last candidate
 * was throttled (by its provider, or a spent quota of its key) a 429 with Retry-After, so the
 * client backs off as it would with OpenAI; otherwise the providers' failure is a 502 / 504.
 * `fault` says when the failure was not the model's, which its metric leaves out of its errors.
 */
export function failure(error: unknown): {
  status: CallRecord['status'];
  errorType: string;
  answer: Error;
  fault?: CallRecord['fault'];
} {
  if (!(error instanceof ExecutionError)) return { status: 'ERROR', errorType: 'internal', answer: error as Error };
  return { ...answerOf(error), fault: faultOf(error) };
}

/**
 * Whose the failure was when it was not the model's: refused before anything was sent (a model
 * that cannot make what was asked, a key's spent quota or its withdrawal, or no candidate tried),
 * or the request's own (a bad request, a refused prompt).
 */
function faultOf({ error, attempts }: ExecutionError): CallRecord['fault'] {
  const refusedBeforeSending =
    error instanceof UnsupportedError || error instanceof QuotaSpentError || error instanceof KeyWithdrawnError;
  if (refusedBeforeSending || !attempts.some((a) => a.attempt)) return 'unsent';
  if (error.kind === 'invalid' || error.kind === 'content_filter') return 'request';
  return undefined;
}

/** The client's answer to a failed execution, and how its usage log files it. */
function answerOf(error: ExecutionError): { status: CallRecord['status']; errorType: string; answer: Error } {
  const { kind, message } = error.error;
  if (kind === 'invalid') {
    // A field the model cannot honour (an image's `style`) is named, as OpenAI's `param`.
    const { param } = error.error.options;
    return {
      status: 'ERROR',
      errorType: kind,
      answer: new ValidationError(message, param ? [{ path: `body.${param}`, message }] : undefined),
    };
  }
  if (kind === 'content_filter')
    return { status: 'ERROR', errorType: kind, answer: new UnprocessableError(`The provider refused the content: ${message}`) };
  if (kind === 'timeout') return { status: 'TIMEOUT', errorType: kind, answer: new GatewayTimeoutError(message) };
  if (kind === 'throttled') {
    const retryAfterSeconds = Math.max(1, Math.ceil((error.error.options.retryAfterMs ?? 1_000) / 1_000));
    return {
      status: 'ERROR',
      errorType: kind,
      answer: new TooManyRequestsError(`Every model that could serve this is rate-limited; last: ${message}`, retryAfterSeconds),
    };
  }
  const shown = shownFailure(error.error, failedAttempt(error.attempts));
  return {
    status: 'ERROR',
    errorType: kind,
    answer: new UpstreamError(`Every model that could serve this failed; last: ${shown}`, undefined, { cause: error }),
  };
}

/** The client went away before the call ended well (and not after a provider's failure of its own). */
const clientLeft = (call: GatewayCall, providerError?: ProviderError) => call.signal.aborted && !providerError;

/**
 * What a call the client cancelled ends with: nobody reads it, but it must not pass for the
 * providers' failure (a 502, logged as an error). 499 is the status proxies log for it.
 */
export class ClientClosedError extends DomainError {
  readonly status = 499;
  readonly type = 'client-closed-request';
  readonly title = 'The client closed the request';
}

/**
 * Records a call that got no answer (releasing its hold) and throws what the client should see.
 * A call the client cancelled is recorded as the client leaving: nothing delivered, nothing
 * charged, and no failure of the model's (its error rate counts the providers' failures only:
 * neither the request's own nor a refusal before anything was sent, `faultOf`).
 */
async function failed(call: GatewayCall, admitted: Admitted, requestedModel: string, error: unknown): Promise<never> {
  const { status, errorType, answer, fault } = failure(error);
  const attempts = error instanceof ExecutionError ? error.attempts : [];
  // The usage log names the candidate whose failure is answered, as the error does.
  const last = failedAttempt(attempts);
  const candidate = last ? admitted.plan.candidates[last.candidate] : undefined;
  const left = clientLeft(call);
  await record(admitted.metered, admitted.admission, {
    candidate,
    requestedModel,
    usage: {},
    status: left ? 'SUCCESS' : status,
    ...(left ? {} : { errorType, fault }),
    requestAt: admitted.requestAt,
    responseAt: new Date(),
    attempts,
    metadata: { route: explainAttempts(attempts), ruleId: admitted.plan.ruleId, ...(left ? { clientClosed: true } : {}) },
  });
  if (left) throw new ClientClosedError('The client went away before the answer');
  throw explained(answer, admitted.plan, attempts);
}

/** The execution's options; each attempt's own (its key's timeout, cut to the deadline) are the executor's to work out. */
const options = (call: GatewayCall): ExecuteOptions => ({
  signal: call.signal,
  timeoutMs: CALL_TIMEOUT_MS,
  deadline: call.deadline,
});

/**
 * The adapter to chat with a candidate, its key used: what the model cannot take of the request (an
 * image by URL, only blank messages) is refused before, so a call never sent spends none of its quota.
 */
async function chatAdapter(candidate: Candidate, request: ChatRequest): Promise<Adapter> {
  const adapter = await adapterFor(candidate.target.adapter);
  adapter.checkChat?.(candidate.target, request);
  await useKey(candidate);
  return adapter;
}

export async function chat(call: GatewayCall, body: ChatCompletionBody): Promise<GatewayReply> {
  const request = toChatRequest(body, DEFAULT_MAX_TOKENS);
  const admitted = await admitCall(
    call,
    body.model,
    'TEXT',
    'chat',
    'chat',
    (c) => estimateCredits(c.pricing, request, request.maxTokens ?? DEFAULT_MAX_TOKENS),
    body.stream === true,
  );
  const id = `chatcmpl-${call.requestId.replace(/[^A-Za-z0-9]/g, '').slice(0, 32)}`;
  const created = Math.floor(admitted.requestAt.getTime() / 1000);
  const meta = (attempts: Attempt[]) => ({ route: explainAttempts(attempts), ruleId: admitted.plan.ruleId });

  if (!body.stream) {
    const calling = performance.now();
    const execution = await execute(
      admitted.plan.candidates,
      async (candidate, o) => (await chatAdapter(candidate, request)).chat(candidate.target, request, o),
      options(call),
    ).catch((error: unknown) => failed(call, admitted, body.model, error));
    const { value: result, candidate, attempts } = execution;
    const responseAt = new Date();
    return {
      headers: routeHeader(admitted.plan, attempts),
      providerMs: performance.now() - calling,
      json: chatCompletion(id, candidate.modelId, created, result),
      after: async () => {
        await record(admitted.metered, admitted.admission, {
          candidate,
          requestedModel: body.model,
          usage: result.usage,
          status: 'SUCCESS',
          requestAt: admitted.requestAt,
          responseAt,
          attempts,
          metadata: meta(attempts),
        });
      },
    };
  }

  const calling = performance.now();
  const execution = await executeStream(
    admitted.plan.candidates,
    (candidate, o) => ({
      async *[Symbol.asyncIterator]() {
        yield* (await chatAdapter(candidate, request)).chatStream(candidate.target, request, o);
      },
    }),
    options(call),
  ).catch((error: unknown) => failed(call, admitted, body.model, error));
  const { candidate, attempts } = execution;
  const chunks = chatChunks(id, candidate.modelId, created);
  const state = {
    text: '',
    usage: undefined as TokenUsage | undefined,
    firstTokenAt: undefined as Date | undefined,
    responseAt: undefined as Date | undefined,
    error: undefined as ProviderError | undefined,
  };
  async function* frames(): AsyncGenerator<string> {
    yield chunks.role();
    try {
      for await (const chunk of execution.stream) {
        if (chunk.type === 'delta') {
          state.firstTokenAt ??= new Date();
          state.text += chunk.text;
          yield chunks.of(chunk);
        } else {
          state.usage = chunk.usage;
          state.responseAt = new Date();
          yield chunks.finish(chunk.finishReason);
          yield chunks.usage(chunk.usage);
        }
      }
    } catch (error) {
      state.responseAt = new Date();
      // The client left, and its abort stopped the provider's stream: nobody to tell, and no provider's fault.
      if (call.signal.aborted) return;
      state.error = error instanceof ProviderError ? error : new ProviderError('network', 'The stream failed');
      const shown = shownFailure(state.error, candidate);
      yield chunks.error({ message: `The stream broke off: ${shown}`, type: 'api_error', code: state.error.kind });
    }
    yield chunks.done();
  }
  return {
    headers: routeHeader(admitted.plan, attempts),
    providerMs: performance.now() - calling,
    sse: frames(),
    after: async () => {
      // What was delivered is what is charged: the provider's count when the stream finished,
      // an estimate of the delivered text when it broke off or the client left. A client that
      // left is no error of the model's: the call counts as served, up to where it was.
      const finished = state.usage !== undefined;
      const usage = state.usage ?? { inputTokens: estimateTokens(request), outputTokens: estimateTextTokens(state.text) };
      await record(admitted.metered, admitted.admission, {
        candidate,
        requestedModel: body.model,
        usage,
        status: state.error ? (state.error.kind === 'timeout' ? 'TIMEOUT' : 'ERROR') : 'SUCCESS',
        errorType: state.error?.kind,
        requestAt: admitted.requestAt,
        responseAt: state.responseAt ?? new Date(),
        firstTokenAt: state.firstTokenAt,
        attempts,
        metadata: {
          ...meta(attempts),
          stream: true,
          ...(finished ? {} : { usageEstimated: true, clientClosed: clientLeft(call, state.error) }),
        },
      });
    },
  };
}

export async function embeddings(call: GatewayCall, body: EmbeddingsBody): Promise<GatewayReply> {
  const { texts: input, tokens } = await embeddingInput(body.input);
  // Token arrays are counted; texts estimated.
  const estimatedTokens = tokens ?? input.reduce((sum, text) => sum + estimateTextTokens(text), 0);
  const admitted = await admitCall(call, body.model, 'TEXT', 'embeddings', 'chat', (c) =>
    creditsFor(costOf(c.pricing, { inputTokens: estimatedTokens }).totalCostMicros),
  );
  const request = { input, ...(body.dimensions ? { dimensions: body.dimensions } : {}) };
  const calling = performance.now();
  const execution = await execute(
    admitted.plan.candidates,
    async (candidate, o) => {
      const adapter = await adapterFor(candidate.target.adapter);
      // What the model cannot make is refused before its key is used: a call never sent spends none of its quota.
      if (!adapter.embed) throw new UnsupportedError(`${candidate.modelId} does not make embeddings`);
      adapter.checkEmbed?.(candidate.target, request);
      await useKey(candidate);
      return adapter.embed(candidate.target, request, o);
    },
    options(call),
  ).catch((error: unknown) => failed(call, admitted, body.model, error));
  const { value, candidate, attempts } = execution;
  const responseAt = new Date();
  return {
    headers: routeHeader(admitted.plan, attempts),
    providerMs: performance.now() - calling,
    json: embeddingsAnswer(candidate.modelId, value.vectors, value.usage.inputTokens, body.encoding_format ?? undefined),
    after: async () => {
      await record(admitted.metered, admitted.admission, {
        candidate,
        requestedModel: body.model,
        usage: { inputTokens: value.usage.inputTokens },
        status: 'SUCCESS',
        requestAt: admitted.requestAt,
        responseAt,
        attempts,
        metadata: { route: explainAttempts(attempts), ruleId: admitted.plan.ruleId, embeddings: input.length },
      });
    },
  };
}

/** The model images are made with when the request names none. */
export const DEFAULT_IMAGE_MODEL = 'default-image';

export async function images(call: GatewayCall, body: ImagesBody): Promise<GatewayReply> {
  const n = body.n ?? 1;
  const model = body.model ?? DEFAULT_IMAGE_MODEL;
  const admitted = await admitCall(call, model, 'IMAGE', 'images', 'generation', (c) =>
    creditsFor(costOf(c.pricing, { images: n }).totalCostMicros),
  );
  const request = {
    prompt: body.prompt,
    n,
    // `auto` is what a model makes when asked no size: sent as none, so a model without `auto` makes its default too.
    ...(body.size && body.size !== 'auto' ? { size: body.size } : {}),
    ...(body.quality ? { quality: body.quality } : {}),
    ...(body.style ? { style: body.style } : {}),
  };
  const calling = performance.now();
  const execution = await execute(
    admitted.plan.candidates,
    async (candidate, o) => {
      const adapter = await adapterFor(candidate.target.adapter);
      // What the model cannot make is refused before its key is used: a call never sent spends none of its quota.
      if (!adapter.image) throw new UnsupportedError(`${candidate.modelId} does not make images`);
      adapter.checkImage?.(candidate.target, request);
      await useKey(candidate);
      return adapter.image(candidate.target, request, o);
    },
    options(call),
  ).catch((error: unknown) => failed(call, admitted, model, error));
  const { value, candidate, attempts } = execution;
  const responseAt = new Date();
  // A server that made more images than asked (one that ignores `n`) answered the call all the
  // same: the client gets the n it asked for, as OpenAI answers, and is charged for those.
  const delivered = value.images.slice(0, n);
  return {
    headers: routeHeader(admitted.plan, attempts),
    providerMs: performance.now() - calling,
    json: { created: Math.floor(responseAt.getTime() / 1000), data: delivered.map((b64_json) => ({ b64_json })) },
    after: async () => {
      await record(admitted.metered, admitted.admission, {
        candidate,
        requestedModel: model,
        usage: { images: Math.min(value.usage.images, delivered.length) },
        status: 'SUCCESS',
        requestAt: admitted.requestAt,
        responseAt,
        attempts,
        metadata: { route: explainAttempts(attempts), ruleId: admitted.plan.ruleId },
      });
    },
  };
}
