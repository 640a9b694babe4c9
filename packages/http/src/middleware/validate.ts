import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import { ValidationError, type FieldError } from '@platform/domain/shared/errors';
import type { RouteDefinition } from '../route.ts';
import { stateOf } from '../state.ts';

export interface ValidatedInput {
  params: unknown;
  query: unknown;
  body: unknown;
}

const MAX_BODY_BYTES = 256 * 1024;

function check(schema: z.ZodType | undefined, value: unknown, where: string, errors: FieldError[]) {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues)
    errors.push({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message });
  return undefined;
}

function readBody(event: APIGatewayProxyEventV2): unknown {
  if (!event.body) return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new ValidationError(`The body is larger than ${MAX_BODY_BYTES} bytes`);
  const type = event.headers?.['content-type'] ?? 'application/json';
  if (!/json/i.test(type)) throw new ValidationError('Send the body as application/json');
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('The body is not valid JSON');
  }
}

/** Parses and validates path, query and body against the route's zod schemas, all at once. */
export const validate = (
  route: RouteDefinition,
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> => ({
  before: async (request) => {
    const { event } = request;
    const errors: FieldError[] = [];
    const body = route.schemas.body ? readBody(event) : undefined;
    const input: ValidatedInput = {
      params: check(route.schemas.params, event.pathParameters ?? {}, 'params', errors),
      query: check(route.schemas.query, event.queryStringParameters ?? {}, 'query', errors),
      body: check(route.schemas.body, body ?? {}, 'body', errors),
    };
    if (errors.length) throw new ValidationError('Some fields are not valid', errors.slice(0, 50));
    stateOf(event).input = input;
  },
});
