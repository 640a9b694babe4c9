import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** Response headers a browser may read; the CDK stack configures API Gateway with the same list. */
export const EXPOSED_HEADERS = [
  'idempotent-replayed',
  'retry-after',
  'location',
  'x-next-cursor',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'x-route',
  'x-gateway-overhead-ms',
];

/** Request headers a browser may send the API's routes; the CDK stack configures API Gateway with the same list. */
export const API_ALLOW_HEADERS = [
  'authorization',
  'content-type',
  'x-api-key',
  'idempotency-key',
  'x-device-name',
  'x-session-id',
];

/**
 * What a browser app may send the gateway: credentials, `x-route-tags`, and what the OpenAI SDK
 * sends with every request (its `x-stainless-*` platform headers, `user-agent` where the browser
 * passes it on, the organization and project). A header left out fails the preflight, so the
 * request never leaves the browser. Named one by one: a `*` would not cover `authorization`.
 */
export const GATEWAY_ALLOW_HEADERS = [
  'authorization',
  'content-type',
  'x-api-key',
  'x-route-tags',
  'openai-organization',
  'openai-project',
  'user-agent',
  'x-stainless-arch',
  'x-stainless-helper-method',
  'x-stainless-lang',
  'x-stainless-os',
  'x-stainless-package-version',
  'x-stainless-retry-count',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-timeout',
];

let headers: Readonly<Record<string, string>> | undefined;

/** The CORS headers of every answer: the same for the life of the process, so built once. */
export function corsHeaders(): Readonly<Record<string, string>> {
  if (headers) return headers;
  const origin = process.env.CORS_ORIGIN ?? '*';
  return (headers = Object.freeze({
    'access-control-allow-origin': origin,
    'access-control-expose-headers': EXPOSED_HEADERS.join(', '),
    ...(origin !== '*' ? { vary: 'origin' } : {}),
  }));
}

/** API Gateway answers preflights; the handler adds the headers to real answers. */
export const cors = (): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> => {
  const addHeaders = async (request: middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>) => {
    if (request.response) request.response.headers = { ...corsHeaders(), ...request.response.headers };
  };
  return { after: addHeaders, onError: addHeaders };
};
