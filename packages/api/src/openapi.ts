import * as z from 'zod';
import { pathParameterNames, type RouteDefinition } from '@platform/http/route';
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

const problem = {
  description: 'Problem details (RFC 9457)',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};

/** The AI gateway's errors are OpenAI's shape (gateway.ts `openAiError`), not problem+json. */
const openAiError = {
  description: 'An error in OpenAI’s shape',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/OpenAiError' } } },
};

const withRetryAfter = (failure: object) => ({
  ...failure,
  headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } },
});

/** Routes that can refuse for want of credits or a payment (402): the gateway's calls, a plan change, a debit. */
const paymentRequired = (route: RouteDefinition) =>
  route.surface === 'gateway' ||
  (route.method === 'PUT' && route.path === '/v1/orgs/{orgId}/subscription') ||
  route.id === 'adjustCredits';

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

function operation(route: RouteDefinition) {
  const status = String(route.successStatus ?? 200);
  const success =
    status === '204'
      ? { description: 'Done' }
      : route.produces
        ? { description: 'Success', content: { [route.produces]: { schema: { type: 'string' } } } }
        : {
            description: 'Success',
            content: { 'application/json': { schema: route.schemas.response ? toSchema(route.schemas.response, 'output') : {} } },
          };
  const error = route.surface === 'gateway' ? openAiError : problem;
  const failures: Record<string, unknown> = { '400': error };
  if (route.auth !== 'public') Object.assign(failures, { '401': error, '403': error });
  if (paymentRequired(route)) failures['402'] = error;
  if (route.schemas.params) failures['404'] = error;
  if (route.method !== 'GET') Object.assign(failures, { '409': error, '422': error });
  // The limits middleware: what the route consumes, and `api` on every call by an API client.
  if (route.consumes || route.auth === 'principal') failures['429'] = withRetryAfter(error);
  return {
    operationId: route.id,
    summary: route.summary,
    tags: [route.tag],
    security: SECURITY[route.auth],
    ...(route.permission ? { 'x-permission': route.permission } : {}),
    parameters: parameters(route),
    ...(route.schemas.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(route.schemas.body, 'input') } } } }
      : {}),
    responses: { [status]: success, ...failures },
  };
}

/** OpenAPI 3.1 for every route of the manifest (local-only routes when asked). */
export function openApiDocument(options: { includeLocal?: boolean; serverUrl?: string } = {}) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (route.localOnly && !options.includeLocal) continue;
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route);
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
