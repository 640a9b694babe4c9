import { once } from 'node:events';
import type { Writable } from 'node:stream';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { DomainError, UnauthenticatedError } from '@platform/domain/shared/errors';
import { corsHeaders } from './middleware/cors.ts';
import { requestMetrics } from './middleware/observe.ts';
import { tracing } from './middleware/tracing.ts';
import { validate } from './middleware/validate.ts';
import { logger } from './observability.ts';
import { cachedPrincipals, presentedCredential, type Principal } from './principal.ts';
import { toProblem } from './problem.ts';
import { decodedOrAsSent, type RouteDefinition, type RouteSchemas } from './route.ts';
import { stateOf } from './state.ts';
import { httpResponseStream, streamifyResponse, type ResponseStream } from './streaming.ts';

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

/**
 * The HTTP kit of the AI gateway (`surface: 'gateway'` routes): OpenAI-compatible, served by one
 * function with Lambda response streaming. Same middy stack as every handler for what comes
 * before the work (logger, metrics, CORS, authentication, zod validation), with two differences:
 * - it authenticates in the function (a function URL has no API Gateway authorizer), with the
 *   same reading of tokens and API keys as the authorizer, remembered for a few seconds;
 * - errors take OpenAI's shape, `{ error: { message, type, param, code } }`, so OpenAI clients
 *   understand them.
 * An answer is JSON or a server-sent-event stream, written as it comes, and may carry `after`:
 * work done once the client has its answer (metering), still inside the invocation.
 */
export interface GatewayInput<S extends RouteSchemas> {
  params: Infer<S['params']>;
  query: Infer<S['query']>;
  body: Infer<S['body']>;
  principal: Principal;
  event: APIGatewayProxyEventV2;
  requestId: string;
  /** Aborted when the client goes away: stop the provider call, meter what was delivered. */
  signal: AbortSignal;
  /**
   * When the providers must be done (ms since the epoch; a stream still running then is cut off):
   * the invocation's end, less `DEADLINE_MARGIN_MS` to answer and record the call.
   */
  deadline: number;
}

export interface GatewayAnswer {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  /** Time spent waiting on providers: the rest of the time to the answer is the gateway's overhead. */
  providerMs?: number;
  /** Server-sent events, already framed (`data: …\n\n`). */
  sse?: AsyncIterable<string>;
  /** Runs after the answer is complete (or the client left), before the invocation ends. */
  after?: () => Promise<void>;
}

export interface GatewayRoute<S extends RouteSchemas = RouteSchemas> {
  route: RouteDefinition<S>;
  fn: (input: GatewayInput<S>) => Promise<GatewayAnswer>;
}

export const gatewayRoute = <S extends RouteSchemas>(
  route: RouteDefinition<S>,
  fn: (input: GatewayInput<S>) => Promise<GatewayAnswer>,
): GatewayRoute => ({ route, fn }) as unknown as GatewayRoute;

/** Milliseconds the gateway itself spent on a call before its answer started: all but the providers' time. */
export const OVERHEAD_HEADER = 'x-gateway-overhead-ms';

/**
 * What a call keeps of its invocation's time after the providers' deadline: enough to answer the
 * client (a 504, or a stream's last frames) and record the call (the settlement or release of its
 * credit hold, the usage log and the model metric, one DynamoDB transaction and its retries).
 * A call Lambda stopped before that would leave its hold to the sweep of expired holds, and no
 * usage log or metric at all.
 */
export const DEADLINE_MARGIN_MS = 10_000;

/** Seconds a credential's principal is remembered by a gateway container. */
export const PRINCIPAL_CACHE_MS = 10_000;
const principals = cachedPrincipals(PRINCIPAL_CACHE_MS);

const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'insufficient_quota',
  403: 'permission_error',
  // As OpenAI answers an unknown model (with the code `model_not_found`).
  404: 'invalid_request_error',
  409: 'conflict_error',
  413: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
};

/** Any thrown value in OpenAI's error shape; unknown errors stay a 500 without internals. */
export function openAiError(thrown: unknown): { status: number; headers: Record<string, string>; body: unknown } {
  const { problem, headers } = toProblem(thrown);
  const status = problem.status;
  const first = problem.errors?.[0];
  const param = first ? first.path.replace(/^body\./, '') : null;
  return {
    status,
    headers,
    body: {
      error: {
        message: [problem.detail ?? problem.title, ...(problem.errors ?? []).map((e) => `${e.path}: ${e.message}`)]
          .filter(Boolean)
          .join('; '),
        type: OPENAI_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'),
        param,
        code:
          status === 404 && param === 'model'
            ? 'model_not_found'
            : thrown instanceof DomainError
              ? thrown.type.replace(/-/g, '_')
              : status >= 500
                ? 'internal_error'
                : null,
      },
    },
  };
}

type Answer = APIGatewayProxyStructuredResultV2 & { answer?: GatewayAnswer };

/** Each request's abort signal, beside its event (the local server runs requests concurrently). */
const signals = new WeakMap<APIGatewayProxyEventV2, AbortSignal>();

function pipelineFor(entry: GatewayRoute) {
  const { route } = entry;
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(tracing() ?? [])
    .use(requestMetrics(route))
    .use({
      onError: async (request) => {
        const { status, headers, body } = openAiError(request.error);
        if (status >= 500) logger.error('Gateway request failed', { error: request.error as Error, route: route.id });
        request.response = {
          statusCode: status,
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        };
      },
    })
    .use({
      before: async (request) => {
        const presented = presentedCredential(request.event.headers ?? {});
        const principal = presented ? await principals(presented) : null;
        if (!principal) throw new UnauthenticatedError('Send an API key or an access token as Authorization: Bearer');
        stateOf(request.event).auth = { caller: principal };
      },
    })
    .use(validate(route))
    .handler(async (event, context) => {
      const state = stateOf(event);
      const input = state.input!;
      const answer = await entry.fn({
        params: input.params,
        query: input.query,
        body: input.body,
        principal: state.auth!.caller as Principal,
        event,
        requestId: event.requestContext.requestId,
        signal: signals.get(event)!,
        deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
      } as GatewayInput<RouteSchemas>);
      return { statusCode: answer.status ?? 200, headers: answer.headers, answer } as Answer;
    });
}

/**
 * One streaming Lambda handler for all gateway routes: it picks the route by method and path
 * (a function URL has no routes of its own), runs its pipeline and writes the answer.
 */
export function gatewayHandler(entries: GatewayRoute[]) {
  const compiled = entries.map((entry) => ({
    entry,
    pattern: new RegExp(`^${entry.route.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`),
  }));
  const pipelines = new Map(compiled.map(({ entry }) => [entry.route.id, pipelineFor(entry)]));

  return streamifyResponse(async (event: APIGatewayProxyEventV2, responseStream: ResponseStream, context: Context) => {
    const started = performance.now();
    const aborted = new AbortController();
    signals.set(event, aborted.signal);
    const onGone = () => aborted.abort(new Error('The client went away'));
    responseStream.once('close', () => {
      if (!responseStream.writableFinished) onGone();
    });
    responseStream.once('error', onGone);

    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath;
    const matches = compiled.filter((c) => c.pattern.test(path));
    const match = matches.find((c) => c.entry.route.method === method);
    if (method === 'OPTIONS') return end(responseStream, { statusCode: 204, headers: { ...corsHeaders() } }, aborted, context);
    if (!match) {
      const status = matches.length ? 405 : 404;
      const body = {
        error: {
          message: status === 404 ? `No route for ${method} ${path}` : `${method} is not allowed on ${path}`,
          type: 'invalid_request_error',
          param: null,
          code: status === 404 ? 'unknown_url' : 'method_not_allowed',
        },
      };
      return end(responseStream, json(status, body), aborted, context);
    }
    // Clients encode a path's parameters (`amazon.nova-micro-v1%3A0`); one that does not decode stays as sent, for validation to refuse.
    event.pathParameters = Object.fromEntries(
      Object.entries(match.pattern.exec(path)!.groups ?? {}).map(([name, value]) => [name, decodedOrAsSent(value)]),
    );
    const result = (await pipelines.get(match.entry.route.id)!(event, context)) as Answer;
    const answer = result.answer;
    const headers = { ...corsHeaders(), ...(result.headers as Record<string, string>) };
    // The gateway's own time before the answer starts (as LiteLLM's x-litellm-overhead-duration-ms).
    if (answer?.providerMs !== undefined)
      headers[OVERHEAD_HEADER] = Math.max(0, performance.now() - started - answer.providerMs).toFixed(2);
    try {
      if (answer?.sse) {
        const out = httpResponseStream(responseStream, {
          statusCode: result.statusCode ?? 200,
          headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers },
        });
        for await (const frame of answer.sse) {
          if (aborted.signal.aborted) break;
          if (!out.write(frame) && !(await written(out, 'drain', aborted, context))) break;
        }
        if (!aborted.signal.aborted) {
          const left = written(out, 'finish', aborted, context);
          out.end();
          await left;
        }
      } else if (answer) {
        // Sent before the after-work starts: the client must not wait on metering.
        await end(
          responseStream,
          {
            statusCode: result.statusCode ?? 200,
            headers: { 'content-type': 'application/json', ...headers },
            body: JSON.stringify(answer.json),
          },
          aborted,
          context,
        );
      } else await end(responseStream, { ...result, headers }, aborted, context);
    } finally {
      // Metering and its records happen once, whether the client stayed or not.
      await answer?.after?.().catch((error: unknown) => logger.error('Gateway after-work failed', { error: error as Error }));
    }
  });
}

/**
 * Waits until the answer's stream emits `event` ('drain': a full stream takes writes again;
 * 'finish': all of it has left): true then. False when the client left first (a stream destroyed
 * under a slow reader emits neither), or read nothing more until the call's deadline: that client
 * is then taken as gone, so the metering after the answer still runs in the function's time
 * instead of being lost with it, the call unpaid.
 */
async function written(out: Writable, event: 'drain' | 'finish', client: AbortController, context: Context): Promise<boolean> {
  if (client.signal.aborted) return false;
  // A timer of our own, cleared when done: on Node 20 an `AbortSignal.timeout` held only by
  // `AbortSignal.any` can be collected, its timeout with it.
  const stop = new AbortController();
  const gone = () => stop.abort();
  client.signal.addEventListener('abort', gone, { once: true });
  const deadline = setTimeout(gone, Math.max(0, context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS));
  try {
    await once(out, event, { signal: stop.signal });
    return true;
  } catch {
    // The client left, the deadline came, or the stream failed: either way nobody reads on.
    if (!client.signal.aborted) client.abort(new Error('The client read nothing more until the call’s deadline'));
    return false;
  } finally {
    clearTimeout(deadline);
    client.signal.removeEventListener('abort', gone);
  }
}

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...corsHeaders() },
  body: JSON.stringify(body),
});

/** Writes a whole answer; resolves once it has left, or the client is gone (`written`). */
async function end(stream: ResponseStream, result: APIGatewayProxyStructuredResultV2, client: AbortController, context: Context) {
  const out = httpResponseStream(stream, {
    statusCode: result.statusCode ?? 200,
    headers: result.headers as Record<string, string>,
  });
  const left = written(out, 'finish', client, context);
  out.end(result.body ?? '');
  await left;
}
