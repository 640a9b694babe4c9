import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import type { Caller, OrgAccess } from '@platform/domain/identity/access';
import { logger } from './observability.ts';
import { authenticate, authorize, type Preload } from './middleware/authorize.ts';
import { cors } from './middleware/cors.ts';
import { idempotency } from './middleware/idempotency.ts';
import { limits } from './middleware/limits.ts';
import { requestMetrics } from './middleware/observe.ts';
import { tracing } from './middleware/tracing.ts';
import { problemJson } from './middleware/problem-json.ts';
import { validate } from './middleware/validate.ts';
import { stateOf, type RequestState } from './state.ts';
import type { RouteDefinition, RouteSchemas } from './route.ts';

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface HandlerInput<S extends RouteSchemas> {
  params: Infer<S['params']>;
  query: Infer<S['query']>;
  body: Infer<S['body']>;
  caller: Caller;
  /** Present on `/orgs/{orgId}/...` routes: proof the caller holds the route's permission there. */
  access: S['params'] extends z.ZodType<{ orgId: string }> ? OrgAccess : OrgAccess | undefined;
  event: APIGatewayProxyEventV2;
}

const REPLY = Symbol('reply');
export interface Reply<T> {
  [REPLY]: true;
  status?: number;
  body?: T;
  headers?: Record<string, string>;
  /** A body sent as is (HTML, a pre-serialized document), bypassing the response schema. */
  raw?: string;
}

/** An answer with a status, headers or a raw body other than the route's default. */
export const reply = <T>(
  body: T,
  options: { status?: number; headers?: Record<string, string>; raw?: string } = {},
): Reply<T> => ({
  [REPLY]: true,
  body,
  ...options,
});

type Output<S extends RouteSchemas> = S['response'] extends z.ZodType ? z.input<S['response']> : void;

/**
 * Wraps a route's function in the one middleware stack every handler uses:
 * logging → tracing (opt-in) → metrics → problem+json errors → CORS → authentication →
 * validation → authorization → idempotency → limits → the function. The answer is serialized through the response schema, so a
 * field the schema does not list (a hash, a secret) cannot leave by accident.
 */
export function httpHandler<S extends RouteSchemas>(
  route: RouteDefinition<S>,
  fn: (input: HandlerInput<S>) => Promise<Output<S> | Reply<Output<S>>>,
  options: {
    /** On `/orgs/{orgId}/...` routes: items to read with the authorization, in its one request (`access.preloaded`). */
    preload?: (input: Pick<HandlerInput<S>, 'params' | 'query' | 'body'>) => ReturnType<Preload>;
  } = {},
) {
  const core = async (event: APIGatewayProxyEventV2) => {
    const { input, auth } = stateOf(event) as Required<Pick<RequestState, 'input' | 'auth'>>;
    const result = await fn({
      params: input.params,
      query: input.query,
      body: input.body,
      caller: auth.caller,
      access: auth.access,
      event,
    } as HandlerInput<S>);
    const isReply = typeof result === 'object' && result !== null && REPLY in result;
    const status = (isReply ? (result as Reply<unknown>).status : undefined) ?? route.successStatus ?? 200;
    const body = isReply ? (result as Reply<unknown>).body : result;
    const headers = isReply ? (result as Reply<unknown>).headers : undefined;
    const raw = isReply ? (result as Reply<unknown>).raw : undefined;
    if (raw !== undefined) return { statusCode: status, headers, body: raw };
    if (status === 204 || body === undefined) return { statusCode: status, headers };
    const serialized = route.schemas.response ? route.schemas.response.parse(body) : body;
    return {
      statusCode: status,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(serialized),
    };
  };

  const stack = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(tracing() ?? [])
    .use(requestMetrics(route))
    // Before problemJson: middy runs onError hooks last-registered first, so CORS headers are added to its problem answer.
    .use(cors())
    .use(problemJson(route))
    .use(authenticate(route))
    .use(validate(route))
    .use(authorize(route, options.preload as Preload | undefined));
  // Idempotency before limits: a replay (or the 409 of a key still in flight, the 422 of another body) does no
  // work, so it neither uses nor is refused by a limit; a first run is still counted, or refused, before any work,
  // and its claim is given up when the limit refuses it, so a retry with the key runs once the window turns.
  return (route.idempotent ? stack.use(idempotency(route)) : stack).use(limits(route)).handler(core);
}
