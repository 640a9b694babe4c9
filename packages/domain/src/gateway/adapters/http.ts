/**
 * HTTP for the providers that speak it (OpenAI-compatible, Anthropic, Gemini): a JSON POST within
 * the call's deadline, and every failure classified once as a ProviderError:
 * 429 throttled (with Retry-After), 5xx server, 401/403 auth, 408 timeout, other 4xx invalid, and
 * the few bodies that mean something else (a content filter, an exhausted quota). The caller's key
 * travels in a header only, never in a URL, and is cut out of any text the provider sends back, so
 * no error or log can carry it.
 *
 * The transport is node:http / node:https over keep-alive agents rather than global fetch: on this
 * hot path fetch (undici behind the WHATWG streams) cost about 1 ms of CPU a call against 0.2 ms, and
 * served a sixth of the calls per second under concurrency (measured in a container of 2 cores).
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { InternalAddressError, publicAddressesOnly } from '../../shared/addresses.ts';
import { ProviderError } from '../types.ts';
import type { CallOptions, ProviderErrorKind } from '../types.ts';
import { isObject } from './answers.ts';
import { Deadline, withDeadline } from './deadline.ts';
import { sseEvents } from './sse.ts';
import type { SseEvent } from './sse.ts';
import { redactSecret } from '../../shared/redact.ts';

export interface HttpCall {
  /** The provider's name in error messages, e.g. `OpenAI`. */
  provider: string;
  url: string;
  headers: Record<string, string | undefined>;
  body: unknown;
  /** The key, to redact from anything the provider answers. */
  secret?: string;
}

const MAX_ERROR_TEXT = 300;

/**
 * Connections stay open between calls: a warm container skips the TCP and TLS handshakes.
 * HTTPS connects to public addresses only, whatever a base URL's host name resolves to. Plain
 * HTTP is for the local cloud's fake providers on loopback: no stored base URL can be `http:`
 * elsewhere (`baseUrl` in the hub's schemas).
 */
const agents = {
  http: new HttpAgent({ keepAlive: true, scheduling: 'lifo' }),
  https: new HttpsAgent({ keepAlive: true, scheduling: 'lifo', lookup: publicAddressesOnly }),
};

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Milliseconds to wait, from `retry-after-ms` (OpenAI) or `retry-after` (seconds or an HTTP date). */
export function retryAfterMs(headers: IncomingHttpHeaders, now = Date.now()): number | undefined {
  const ms = Number(header(headers, 'retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  const value = header(headers, 'retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

interface ErrorBody {
  message?: string;
  code?: string;
}

/** The message and code of an error body in any of the dialects: `{error: {message, code|type|status}}` or `{message}`. */
function errorBody(text: string): ErrorBody {
  try {
    const json = JSON.parse(text) as { error?: unknown; message?: unknown };
    const error = (typeof json.error === 'object' && json.error !== null ? json.error : json) as Record<string, unknown>;
    const pick = (value: unknown) => (typeof value === 'string' ? value : undefined);
    return { message: pick(error.message), code: pick(error.code) ?? pick(error.type) ?? pick(error.status) };
  } catch {
    return { message: text || undefined };
  }
}

const CONTENT_FILTER_CODES = new Set(['content_policy_violation', 'content_filter', 'moderation_blocked']);
const EXHAUSTED_QUOTA_CODES = new Set(['insufficient_quota', 'billing_hard_limit_reached']);

function kindOf(status: number, code: string | undefined): ProviderErrorKind {
  if (code && CONTENT_FILTER_CODES.has(code)) return 'content_filter';
  // A key whose account is out of money will not recover with a retry: it is the credential's problem.
  if (code && EXHAUSTED_QUOTA_CODES.has(code)) return 'auth';
  if (status === 429) return 'throttled';
  if (status === 408) return 'timeout';
  if (status === 401 || status === 403 || status === 402) return 'auth';
  if (status >= 500) return 'server';
  return 'invalid';
}

/**
 * The kind of an error an OpenAI-compatible server sends as an event mid-stream (`{"error":
 * {...}}`): by its code (and status, when it names one) as its non-2xx answer would be, so an
 * exhausted quota is the key's problem (`auth`) there too; anything else is a server failure.
 */
export function streamErrorKind(error: unknown): ProviderErrorKind {
  if (typeof error !== 'object' || error === null) return 'server';
  const { code, type, status } = error as Record<string, unknown>;
  const named = typeof code === 'string' ? code : typeof type === 'string' ? type : undefined;
  const numeric = [status, code].find((value): value is number => typeof value === 'number' && value >= 400 && value <= 599);
  return kindOf(numeric ?? 500, named);
}

/** The ProviderError for a provider's non-2xx answer. */
export function statusError(
  provider: string,
  status: number,
  headers: IncomingHttpHeaders,
  text: string,
  secret?: string,
): ProviderError {
  const { message, code } = errorBody(text);
  const kind = kindOf(status, code);
  const detail = message ? `: ${redactSecret(message, secret).slice(0, MAX_ERROR_TEXT)}` : '';
  return new ProviderError(kind, `${provider} answered ${status}${detail}`, {
    status,
    retryAfterMs: kind === 'throttled' || kind === 'server' ? retryAfterMs(headers) : undefined,
  });
}

async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** POST the call's JSON; resolves with a 2xx response, or throws the answer's ProviderError. */
async function send(call: HttpCall, deadline: Deadline): Promise<IncomingMessage> {
  const url = new URL(call.url);
  const payload = Buffer.from(JSON.stringify(call.body));
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': payload.length };
  for (const [name, value] of Object.entries(call.headers)) if (value !== undefined) headers[name] = value;
  const secure = url.protocol === 'https:';
  const response = await deadline.race(
    new Promise<IncomingMessage>((resolve, reject) => {
      const request = (secure ? httpsRequest : httpRequest)(
        url,
        { method: 'POST', headers, agent: secure ? agents.https : agents.http, signal: deadline.signal },
        resolve,
      );
      request.on('error', (error) =>
        reject(
          error instanceof InternalAddressError
            ? new ProviderError('invalid', `${call.provider}: ${error.message}; the platform calls public hosts only`)
            : error,
        ),
      );
      request.end(payload);
    }),
  );
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return response;
  const text = await deadline.race(readText(response)).catch(() => '');
  throw statusError(call.provider, status, response.headers, text, call.secret);
}

/** POST JSON and read the JSON answer (an object, else the provider is failing), all within the deadline. */
export function postJson<T>(call: HttpCall, options?: CallOptions): Promise<T> {
  return withDeadline(call.provider, options, async (deadline) => {
    const text = await readText(await send(call, deadline));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!isObject(json)) throw new ProviderError('server', `${call.provider} answered with malformed JSON`);
    return json as T;
  });
}

/** POST JSON and read the answer's server-sent events; the deadline restarts with every chunk. */
export async function* postForEvents(call: HttpCall, options?: CallOptions): AsyncGenerator<SseEvent> {
  const deadline = new Deadline(call.provider, options);
  try {
    const response = await send(call, deadline);
    deadline.extend();
    yield* sseEvents(response, deadline);
  } catch (error) {
    throw deadline.failure(error);
  } finally {
    deadline.dispose();
  }
}

/** Parse one event's JSON data, an object; a provider sending something else is failing. */
export function eventJson<T>(provider: string, event: SseEvent): T {
  let json: unknown;
  try {
    json = JSON.parse(event.data);
  } catch {
    json = undefined;
  }
  if (!isObject(json)) throw new ProviderError('server', `${provider} sent a malformed stream event`);
  return json as T;
}

/** A base URL without its trailing slashes, so paths join cleanly. */
export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path;
}
