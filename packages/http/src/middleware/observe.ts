import middy from '@middy/core';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { metrics } from '../observability.ts';
import type { RouteDefinition } from '../route.ts';

type Middleware = middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;
type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/**
 * One metric per answer, by route and status class (EMF through Powertools Metrics):
 * request counts and error rates per route come from the logs, at no call cost.
 */
export const requestMetrics = (route: RouteDefinition): Middleware => {
  const publish = async (request: Request) => {
    const status = request.response?.statusCode ?? 500;
    metrics.addDimensions({ route: route.id, status: `${Math.floor(status / 100)}xx` });
    metrics.addMetric('Responses', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
};

/**
 * Powertools Tracer (X-Ray subsegments for each AWS call) when `TRACING=powertools`. It is
 * loaded on first use: its X-Ray SDK costs about as much cold start as the DynamoDB client,
 * and Lambda's active tracing already records each invocation without it.
 */
export const tracing = (): Middleware | undefined => {
  if (process.env.TRACING !== 'powertools') return undefined;
  let inner: Promise<middy.MiddlewareObj> | undefined;
  const load = () =>
    (inner ??= Promise.all([import('@aws-lambda-powertools/tracer'), import('@aws-lambda-powertools/tracer/middleware')]).then(
      ([{ Tracer }, { captureLambdaHandler }]) => captureLambdaHandler(new Tracer()) as middy.MiddlewareObj,
    ));
  return {
    before: async (request) => (await load()).before?.(request as never),
    after: async (request) => (await load()).after?.(request as never),
    onError: async (request) => (await load()).onError?.(request as never),
  };
};

/**
 * A handler that is not a route's (a scheduled job, a stream consumer) with the Powertools Tracer
 * when `TRACING=powertools`, as the routes have it; otherwise the handler itself.
 */
export function traced<E, R>(handler: (event: E) => Promise<R>): (event: E, context: Context) => Promise<R> {
  const middleware = tracing();
  if (!middleware) return handler;
  return middy<E, R>()
    .use(middleware as unknown as middy.MiddlewareObj<E, R>)
    .handler(handler);
}
