import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * An HTTP API event for a route's handler invoked in-process, as Lambda invokes it (a test that
 * makes a dependency fail or slow for one call): the route key, the path with its parameters, a
 * JSON body, and a user's access-token claims as the JWT authorizer passes them.
 */
export function routeEvent(
  routeKey: string,
  options: {
    path?: string;
    pathParameters?: Record<string, string>;
    headers?: Record<string, string>;
    body?: unknown;
    userId?: string;
  } = {},
): APIGatewayProxyEventV2 {
  const [method, template] = routeKey.split(' ') as [string, string];
  const path = options.path ?? template;
  const claims = options.userId ? { sub: options.userId, username: options.userId, token_use: 'access' } : undefined;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'localhost', ...options.headers },
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      ...(claims ? { authorizer: { jwt: { claims, scopes: null } } } : {}),
      domainName: 'localhost',
      domainPrefix: 'local',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  } as unknown as APIGatewayProxyEventV2;
}
