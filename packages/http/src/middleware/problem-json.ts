import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { logger } from '../observability.ts';
import type { FieldError } from '@platform/domain/shared/errors';
import { problemResponse, toProblem } from '../problem.ts';
import type { RouteDefinition } from '../route.ts';

type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

const LOCATED = /^(body|query|params|headers)(\.|$)/;

/**
 * Field errors name where the field was sent (`body.slug`, `query.cursor`). The domain names a
 * field by itself (`slug`): on a route that takes a body it is the body's, else the query's.
 */
export function locateFieldErrors(errors: FieldError[], route: Pick<RouteDefinition, 'schemas'>): FieldError[] {
  const where = route.schemas?.body ? 'body' : route.schemas?.query ? 'query' : undefined;
  if (!where) return errors;
  return errors.map((e) => (LOCATED.test(e.path) ? e : { ...e, path: e.path ? `${where}.${e.path}` : where }));
}

/** Any error becomes problem+json; only 5xx are logged as errors, never with a stack in the answer. */
export const problemJson = (
  route: Pick<RouteDefinition, 'schemas'>,
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> => ({
  onError: async (request: Request) => {
    const { problem, headers } = toProblem(request.error, request.event.rawPath);
    if (problem.errors) problem.errors = locateFieldErrors(problem.errors, route);
    if (problem.status >= 500)
      logger.error('Request failed', { error: request.error as Error, routeKey: request.event.routeKey });
    else logger.debug('Request refused', { status: problem.status, detail: problem.detail });
    request.response = problemResponse(problem, headers);
  },
});
