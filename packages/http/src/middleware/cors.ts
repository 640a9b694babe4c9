import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export function corsHeaders(): Record<string, string> {
  const origin = process.env.CORS_ORIGIN ?? '*';
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'idempotent-replayed, retry-after, location',
    ...(origin !== '*' ? { vary: 'origin' } : {}),
  };
}

/** API Gateway answers preflights; the handler adds the headers to real answers. */
export const cors = (): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> => {
  const addHeaders = async (request: middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>) => {
    if (request.response) request.response.headers = { ...corsHeaders(), ...request.response.headers };
  };
  return { after: addHeaders, onError: addHeaders };
};
