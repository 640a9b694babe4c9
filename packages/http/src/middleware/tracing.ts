import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/*
 * The tracer, apart from the rest of observability (observe.ts): a handler that loads nothing
 * else of it (the Lambda authorizer, in front of every request) is traced at the cost of middy.
 */

/**
 * Powertools Tracer (X-Ray subsegments for each AWS call) when `TRACING=powertools`. It is
 * loaded on first use: its X-Ray SDK costs about as much cold start as the DynamoDB client,
 * and Lambda's active tracing already records each invocation without it. The handler's
 * response is not recorded: it is what a route shows once (tokens at sign-in, a new API key, an
 * MFA secret), and X-Ray metadata is stored as sent, past the logs' redaction.
 */
export const tracing = <E = any, R = any>(): middy.MiddlewareObj<E, R> | undefined => {
  if (process.env.TRACING !== 'powertools') return undefined;
  let inner: Promise<middy.MiddlewareObj> | undefined;
  const load = () =>
    (inner ??= Promise.all([import('@aws-lambda-powertools/tracer'), import('@aws-lambda-powertools/tracer/middleware')]).then(
      ([{ Tracer }, { captureLambdaHandler }]) =>
        captureLambdaHandler(new Tracer(), { captureResponse: false }) as middy.MiddlewareObj,
    ));
  return {
    before: async (request) => (await load()).before?.(request as never),
    after: async (request) => (await load()).after?.(request as never),
    onError: async (request) => (await load()).onError?.(request as never),
  };
};

/**
 * A handler that is not a route's (the authorizer, the Cognito trigger, a scheduled job, a stream
 * consumer) with the Powertools Tracer when `TRACING=powertools`, as the routes have it;
 * otherwise the handler itself.
 */
export function traced<E, R>(handler: (event: E) => Promise<R>): (event: E, context?: Context) => Promise<R> {
  const middleware = tracing<E, R>();
  if (!middleware) return handler;
  const wrapped = middy<E, R>().use(middleware).handler(handler);
  // Lambda always passes its context; a caller of ours that has none (a test, a local runner) gets an empty one.
  return (event, context) => wrapped(event, context ?? ({} as Context));
}
