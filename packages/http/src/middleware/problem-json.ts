import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { logger } from '../observability.ts';
import { problemResponse, toProblem } from '../problem.ts';

type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/** Any error becomes problem+json; only 5xx are logged as errors, never with a stack in the answer. */
export const problemJson = (): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> => ({
  onError: async (request: Request) => {
    const { problem, headers } = toProblem(request.error, request.event.rawPath);
    if (problem.status >= 500)
      logger.error('Request failed', { error: request.error as Error, routeKey: request.event.routeKey });
    else logger.debug('Request refused', { status: problem.status, detail: problem.detail });
    request.response = problemResponse(problem, headers);
  },
});
