import * as z from 'zod';
import { pathParameterNames, type ErrorStatus, type RouteDefinition } from '@platform/http/route';
import { routes } from './manifest.ts';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as JsonSchema;
  return rest;
};

const problemContent = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

/** The AI gateway's errors are OpenAI's shape (gateway.ts `openAiError`), not problem+json. */
const openAiErrorContent = { 'application/json': { schema: { $ref: '#/components/schemas/OpenAiError' } } };

/** What each failure means, as the problem's `title` says it (shared/errors.ts). */
const FAILURES: Record<ErrorStatus, string> = {
  400: 'The request is not valid',
  401: 'Authentication is required',
  402: 'Not enough credits, or a payment is required',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict with the current state',
  410: 'No longer available',
  412: 'The resource changed since it was read',
  413: 'The body is larger than the route takes (256 KiB unless the route says more)',
  415: 'The body is not JSON, or declares a charset other than UTF-8',
  422: 'The request cannot be carried out',
  429: 'Too many requests',
  500: 'Something went wrong on our side',
  502: 'A service we depend on failed',
  504: 'The model provider did not answer in time',
};

const header = (description: string, type = 'string') => ({ description, schema: { type } });

const retryAfter = { 'Retry-After': header('Seconds to wait before trying again', 'integer') };

/** A limit of the plan that refused the call (billing/limits.ts) says which, besides Retry-After. */
const rateLimit = {
  'X-RateLimit-Limit': header('When a usage limit refused the call: that limit, in uses a window', 'integer'),
  'X-RateLimit-Remaining': header('When a usage limit refused the call: the uses left in its window (0)', 'integer'),
  'X-RateLimit-Reset': header('When a usage limit refused the call: when its window ends, in Unix seconds', 'integer'),
};

/** How the gateway routed a call (gateway/service.ts `routeHeader`): on its answer, and on its failures once routed. */
const xRoute = {
  'x-route': header('How the call was routed: the rule, why, and each attempt (model, key, outcome)'),
};

/** The gateway's own time on an answered call (http/src/gateway.ts `OVERHEAD_HEADER`). */
const gatewayOverhead = {
  'x-gateway-overhead-ms': header(
    'Milliseconds the gateway itself spent before the answer started: all but the providers’ time',
    'number',
  ),
};

/** Whether the limits middleware runs on the route: what it consumes, and `api` on every call by an API client. */
const limited = (route: RouteDefinition) => Boolean(route.consumes) || route.auth === 'principal';

/** A gateway route that routes a call to a model (chat, embeddings, images), so it answers `x-route`. */
const routesCalls = (route: RouteDefinition) => route.surface === 'gateway' && Boolean(route.consumes);

/** The failures a routed gateway call answers after its route was decided: admission, and the providers' answers. */
const ROUTED_FAILURES: ReadonlySet<ErrorStatus> = new Set([400, 402, 409, 422, 429, 502, 504]);

/**
 * Every failure a route can answer: those of its kind, from the middleware every route of that
 * kind runs (handler.ts, gateway.ts, the local server's and API Gateway's body limit), and those
 * its own code throws, which the route declares (`errors`).
 */
export function failureStatuses(route: RouteDefinition): ErrorStatus[] {
  const statuses = new Set<ErrorStatus>([500, ...(route.errors ?? [])]);
  const add = (...more: ErrorStatus[]) => more.forEach((s) => statuses.add(s));
  const { params, query, body } = route.schemas;
  if (params || query || body) add(400); // validation of the path, the query and the body
  add(413); // a body past the size limit: validate.ts measures every route's body, with a body schema or not
  if (body) add(415); // a body not JSON, or in a charset other than UTF-8
  if (route.auth !== 'public') add(401, 403); // no credentials; the wrong kind of caller, or no permission
  if (route.auth !== 'public') add(404); // a user's token that outlived the deletion of their account
  if (pathParameterNames(route.path).length) add(404); // what the path names is not there (or the caller is no member)
  if (route.idempotent) add(409, 422); // the Idempotency-Key is still in flight, or came with another body
  // The limits middleware: what the route consumes, and `api` on every call by an API client.
  if (limited(route)) add(429);
  return [...statuses].sort((a, b) => a - b);
}

function failure(route: RouteDefinition, status: ErrorStatus) {
  // Past the route's own limit, its function refuses the body (in the gateway's shape there); past
  // what a Lambda request holds (6 MB with the rest of the request), the platform does before any
  // function runs: the local server as problem+json, on AWS Lambda's own error.
  const gateway = route.surface === 'gateway';
  const content = !gateway ? problemContent : status === 413 ? { ...openAiErrorContent, ...problemContent } : openAiErrorContent;
  const description =
    status === 413 && route.maxBodyBytes
      ? `The body is larger than the ${route.maxBodyBytes} bytes this route takes`
      : FAILURES[status];
  const headers = {
    ...(status === 429 ? retryAfter : {}),
    ...(status === 429 && limited(route) ? rateLimit : {}),
    ...(routesCalls(route) && ROUTED_FAILURES.has(status) ? xRoute : {}),
  };
  return { description, content, ...(Object.keys(headers).length ? { headers } : {}) };
}

/** The headers of a successful answer: a replay's mark, the gateway's route, and those the route names. */
function successHeaders(route: RouteDefinition) {
  const headers = {
    ...(route.idempotent
      ? { 'Idempotent-Replayed': header('`true` when this answers an Idempotency-Key again: the first request’s result') }
      : {}),
    ...(routesCalls(route) ? { ...xRoute, ...gatewayOverhead } : {}),
    ...Object.fromEntries(Object.entries(route.responseHeaders ?? {}).map(([name, description]) => [name, header(description)])),
  };
  return Object.keys(headers).length ? { headers } : {};
}

const SECURITY: Record<RouteDefinition['auth'], unknown[]> = {
  public: [],
  user: [{ cognito: [] }],
  admin: [{ cognito: [] }],
  principal: [{ cognito: [] }, { apiKey: [] }, { apiKeyBearer: [] }],
};

function parameters(route: RouteDefinition) {
  const out: unknown[] = [];
  const params = route.schemas.params ? (toSchema(route.schemas.params, 'input').properties as Record<string, JsonSchema>) : {};
  for (const name of pathParameterNames(route.path))
    out.push({ name, in: 'path', required: true, schema: params[name] ?? { type: 'string' } });
  if (route.schemas.query) {
    const query = toSchema(route.schemas.query, 'input');
    const required = new Set((query.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries((query.properties as Record<string, JsonSchema>) ?? {}))
      out.push({ name, in: 'query', required: required.has(name), schema });
  }
  if (route.idempotent)
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'Repeat a creation safely: the same key (8–128 characters) answers the first result again for 24 hours.',
      schema: { type: 'string', minLength: 8, maxLength: 128 },
    });
  return out;
}

/**
 * Where the gateway's operations are served when another server than the document's serves them:
 * on AWS the gateway's function URL (streaming), not the HTTP API; locally one server serves both.
 * `gatewayUrl` has no trailing slash (the operations' paths start with one).
 */
export const gatewayServers = (gatewayUrl: string) => [
  { url: gatewayUrl, description: 'The AI gateway (its function URL, with response streaming)' },
];

function operation(route: RouteDefinition, gatewayUrl: string | undefined) {
  const status = String(route.successStatus ?? 200);
  const success =
    status === '204'
      ? { description: 'Done', ...successHeaders(route) }
      : route.produces
        ? { description: 'Success', ...successHeaders(route), content: { [route.produces]: { schema: { type: 'string' } } } }
        : {
            description: 'Success',
            ...successHeaders(route),
            content: {
              'application/json': { schema: route.schemas.response ? toSchema(route.schemas.response, 'output') : {} },
              // A streamed answer is the same success in another media type: its events, as the route describes them.
              ...(route.streams ? { 'text/event-stream': { schema: { type: 'string', description: route.streams } } } : {}),
            },
          };
  const successes: Record<string, unknown> = { [status]: success };
  if (route.replayStatus)
    successes[String(route.replayStatus)] = { ...success, description: 'Already done: what the first request made' };
  const failures = Object.fromEntries(failureStatuses(route).map((s) => [String(s), failure(route, s)]));
  return {
    // First, so that the bundle's prebuilt document can drop it as one piece (`prebuiltOpenApi` in infra/constructs/esbuild.ts).
    ...(gatewayUrl && route.surface === 'gateway' ? { servers: gatewayServers(gatewayUrl) } : {}),
    operationId: route.id,
    summary: route.summary,
    tags: [route.tag],
    security: SECURITY[route.auth],
    ...(route.permission ? { 'x-permission': route.permission } : {}),
    parameters: parameters(route),
    ...(route.schemas.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(route.schemas.body, 'input') } } } }
      : {}),
    responses: { ...successes, ...failures },
  };
}

/**
 * OpenAPI 3.1 for every route of the manifest (local-only routes when asked). With `gatewayUrl`,
 * the gateway's operations name it as their server (an operation's `servers` override the document's).
 */
export function openApiDocument(options: { includeLocal?: boolean; serverUrl?: string; gatewayUrl?: string } = {}) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (route.localOnly && !options.includeLocal) continue;
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, options.gatewayUrl);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'AI Platform API',
      version: '1.0.0',
      description:
        'Multi-tenant AI platform. Errors are application/problem+json (OpenAI’s error shape on the /openai/v1 gateway). Authenticate with a Cognito access token (`Authorization: Bearer`) or an API client key (`x-api-key` or `Authorization: Bearer`).',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    paths,
    components: {
      securitySchemes: {
        cognito: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        apiKeyBearer: { type: 'http', scheme: 'bearer', description: 'An API client key `ak_….…`' },
      },
      schemas: {
        OpenAiError: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['message', 'type', 'param', 'code'],
              properties: {
                message: { type: 'string' },
                type: { type: 'string' },
                param: { type: ['string', 'null'] },
                code: { type: ['string', 'null'] },
              },
            },
          },
        },
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status'],
          properties: {
            type: { type: 'string', format: 'uri' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
            errors: {
              type: 'array',
              items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
            },
          },
        },
      },
    },
  };
}
