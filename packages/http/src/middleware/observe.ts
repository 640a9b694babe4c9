import type middy from '@middy/core';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
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
