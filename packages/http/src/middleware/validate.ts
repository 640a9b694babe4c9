import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import { DomainError, ValidationError, type FieldError } from '@platform/domain/shared/errors';
import { logger } from '../observability.ts';
import type { RouteDefinition } from '../route.ts';
import { stateOf } from '../state.ts';

export interface ValidatedInput {
  params: unknown;
  query: unknown;
  body: unknown;
}

/** The largest body a route takes unless it says more (`maxBodyBytes`). */
const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/** Deeper bodies are refused before parsing: no route takes them, and walking them overflows the stack. */
const MAX_BODY_DEPTH = 64;

/** 415: the body is not JSON, or declares a charset the API does not decode. */
class UnsupportedMediaTypeError extends DomainError {
  readonly status = 415;
  readonly type = 'unsupported-media-type';
  readonly title = 'Unsupported media type';
}

/** 413: the body is larger than the route takes. */
class PayloadTooLargeError extends DomainError {
  readonly status = 413;
  readonly type = 'payload-too-large';
  readonly title = 'Payload too large';
}

/** JSON's media type, or a JSON-based one (`application/problem+json`, …); a missing type is taken as JSON. */
const isJsonType = (contentType: string | undefined) =>
  !contentType || /^application\/(?:[\w.+-]+\+)?json$/i.test(contentType.split(';')[0]!.trim());

function check(schema: z.ZodType | undefined, value: unknown, where: string, errors: FieldError[]) {
  if (!schema) return undefined;
  let result: ReturnType<typeof schema.safeParse>;
  try {
    result = schema.safeParse(value);
  } catch (error) {
    // A refinement that walks the value (JSON.stringify) on a deeply nested one: the input's fault.
    if (!(error instanceof RangeError)) throw error;
    logger.warn('Validation threw', { error, where });
    errors.push({ path: where, message: 'Nested too deeply' });
    return undefined;
  }
  if (result.success) return result.data;
  // A client sees the first 50: more would only cost memory.
  for (const issue of result.error.issues.slice(0, Math.max(0, 50 - errors.length)))
    errors.push({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message });
  return undefined;
}

/** Maps and lists nested in JSON text, counted in one pass without recursion (strings skipped). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // a BOM stays in the text, as on AWS

/**
 * The body as text. The same on AWS and locally: the local server passes bytes that are not
 * UTF-8 base64-encoded, as API Gateway passes binary, so both are refused here, never stored as U+FFFD.
 */
function bodyText(event: APIGatewayProxyEventV2): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(event.headers?.['content-type'] ?? '')?.[1];
  if (charset && !/^utf-?8$/i.test(charset))
    throw new UnsupportedMediaTypeError(`Send the body as UTF-8 (charset=utf-8), not ${charset}`);
  if (!event.isBase64Encoded) return event.body!;
  try {
    return utf8.decode(Buffer.from(event.body!, 'base64'));
  } catch {
    throw new ValidationError('The body is not valid UTF-8');
  }
}

/** Refuses a body past the route's limit, counted in bytes as sent, before it is decoded or parsed. */
function checkSize(event: APIGatewayProxyEventV2, route: RouteDefinition) {
  const limit = route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (event.body && Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8') > limit)
    throw new PayloadTooLargeError(`The body is larger than ${limit} bytes, the most this route takes`);
}

function readBody(event: APIGatewayProxyEventV2): unknown {
  if (!event.body) return undefined;
  const text = bodyText(event);
  const type = event.headers?.['content-type'];
  if (!isJsonType(type)) throw new UnsupportedMediaTypeError(`Send the body as application/json, not ${type!.slice(0, 100)}`);
  if (jsonDepth(text) > MAX_BODY_DEPTH) throw new ValidationError(`The body is nested more than ${MAX_BODY_DEPTH} levels deep`);
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
    // A route that reads its body raw (a signed webhook) is held to its limit too.
    checkSize(event, route);
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
