import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { RouteDefinition } from '@platform/http/route';
import { decodedOrAsSent, pathParameterNames } from '@platform/http/route';
import { PROBLEM_BASE } from '@platform/http/problem';
import { API_ALLOW_HEADERS, GATEWAY_ALLOW_HEADERS } from '@platform/http/middleware/cors';
import { isStreamingHandler, type LocalResponseStream, type ResponsePrelude } from '@platform/http/streaming';
import { GATEWAY_TIMEOUT_SECONDS } from '@platform/domain/gateway/timeouts';
import { jwtAuthorizer } from './jwt-authorizer.ts';
import { localLambdaContext } from './lambda-context.ts';
import { currentRequest, type RequestRecord } from './recorder.ts';

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface LocalServerOptions {
  routes: RouteDefinition[];
  functionsDir: string;
  port: number;
  cognito: { userPoolId: string; clientId: string; jwks: { keys: unknown[] } };
  /**
   * Called after each request with the DynamoDB requests it made. Only then are they recorded
   * (and sent back in `x-local-dynamodb*` headers): the recorder follows each request with
   * AsyncLocalStorage, which on Node 20 runs a hook for every promise the process creates.
   */
  onRequest?: (record: RequestRecord & { method: string; path: string; status: number }) => void;
  corsOrigin?: string;
  /**
   * Invocations one function runs at once, the work after its answer included (default
   * `LOCAL_FUNCTION_CONCURRENCY`, else 1000, Lambda's default for an account). Lambda caps a
   * function's concurrency the same way; where Lambda would refuse more (429), the local server
   * makes them wait for a slot, so clients faster than the work after the answers (the gateway's
   * metering) are held back instead of piling that work up in memory. A lower cap binds sooner
   * and costs throughput: the gateway's records go to the table together while a transaction is
   * in flight, and the more that wait, the fewer transactions (64 took the bench from ~530 to
   * ~370 calls a second).
   */
  concurrency?: number;
}

/** A function's invocations: how many run, and those waiting for a slot, in order. */
class Slots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly size: number) {}
  async take(): Promise<void> {
    if (this.running < this.size) {
      this.running++;
      return;
    }
    // The slot passes straight from the invocation that ends to the one waiting longest.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give() {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}

interface CompiledRoute {
  route: RouteDefinition;
  pattern: RegExp;
  names: string[];
}

/** What a Lambda request holds (6 MB): each route's own limit, at most this, is checked by its handler. */
const MAX_BODY_BYTES = 6 * 1024 * 1024;

/** Whether a request has a body to read (RFC 9112 §6.3: one of these headers frames it). */
const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';

function compile(route: RouteDefinition): CompiledRoute {
  const source = route.path
    .split(/(\{\w+\+?\})/)
    .map((part) => (part.startsWith('{') ? '([^/]+)' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return { route, names: pathParameterNames(route.path), pattern: new RegExp(`^${source}$`) };
}

/** The local gateway's own answers, in the shape of the handlers' problems (`instance` is the path). */
const problem = (status: number, title: string, detail: string, instance: string, headers: Record<string, string> = {}) => ({
  statusCode: status,
  headers: { 'content-type': 'application/problem+json', ...headers },
  body: JSON.stringify({ type: `${PROBLEM_BASE}${title.toLowerCase().replace(/\s+/g, '-')}`, title, status, detail, instance }),
});

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // a BOM stays in the text, as on AWS

/**
 * The event's body as API Gateway passes it: text when the bytes are UTF-8, else base64 (as it
 * passes binary), so that the HTTP kit refuses them the same way on AWS and here.
 */
function eventBody(bytes: Buffer): Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'> {
  if (!bytes.length) return { body: undefined, isBase64Encoded: false };
  try {
    return { body: utf8.decode(bytes), isBase64Encoded: false };
  } catch {
    return { body: bytes.toString('base64'), isBase64Encoded: true };
  }
}

/**
 * API Gateway (HTTP API, payload 2.0) on one machine: matches the manifest's routes, builds
 * the same event, applies the JWT authorizer (user/admin routes) or runs the real Lambda
 * authorizer (principal routes), then invokes the route's handler module in-process.
 */
export async function startLocalServer(
  options: LocalServerOptions,
): Promise<{ server: Server; url: string; settled(): Promise<void>; close(): Promise<void> }> {
  const compiled = options.routes.map(compile);
  // A path parameter is one segment, so a path can only match routes of as many segments.
  const slashes = (path: string) => path.split('/').length - 1;
  const bySegments = new Map<number, CompiledRoute[]>();
  for (const c of compiled) {
    const segments = slashes(c.route.path);
    bySegments.set(segments, [...(bySegments.get(segments) ?? []), c]);
  }
  const handlers = new Map<string, Promise<LambdaHandler>>();
  const load = (module: string) => {
    let loaded = handlers.get(module);
    if (!loaded) {
      loaded = import(pathToFileURL(join(options.functionsDir, `${module}.ts`)).href).then((m) => m.handler as LambdaHandler);
      handlers.set(module, loaded);
    }
    return loaded;
  };
  /**
   * On AWS the gateway's function URL takes every path under /openai/ and its function answers
   * an unknown path or method in OpenAI's error shape: so here too, rather than problem+json.
   */
  const gateway = compiled.find((c) => c.route.surface === 'gateway' && c.route.path.startsWith('/openai/'));
  const gatewayFunctionUrl = (path: string, method: string): CompiledRoute | undefined =>
    gateway && path.startsWith('/openai/')
      ? {
          route: { ...gateway.route, id: 'gatewayFunctionUrl', method: method as RouteDefinition['method'], path },
          pattern: /^.*$/,
          names: [],
        }
      : undefined;
  const claimsOf = jwtAuthorizer(options.cognito);
  const concurrency = options.concurrency ?? Number(process.env.LOCAL_FUNCTION_CONCURRENCY ?? 1000);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`LOCAL_FUNCTION_CONCURRENCY must be a whole number of at least 1, not ${concurrency}`);
  const slots = new Map<string, Slots>();
  /** Runs an invocation of a function once it has a slot. */
  async function invoke<T>(module: string, fn: () => Promise<T>): Promise<T> {
    let own = slots.get(module);
    if (!own) slots.set(module, (own = new Slots(concurrency)));
    await own.take();
    try {
      return await fn();
    } finally {
      own.give();
    }
  }

  async function authorize(
    route: RouteDefinition,
    event: APIGatewayProxyEventV2,
  ): Promise<APIGatewayProxyStructuredResultV2 | undefined> {
    // The gateway's function URL has no authorizer: the function authenticates (see gateway.ts).
    if (route.auth === 'public' || route.surface === 'gateway') return;
    const unauthorized = problem(401, 'Unauthenticated', 'Send a valid access token or API key', event.rawPath);
    if (route.auth === 'principal') {
      const authorizer = await load('identity/authorizer');
      const record = currentRequest.getStore();
      if (record) record.inAuthorizer = true;
      const result = (await authorizer(
        {
          version: '2.0',
          type: 'REQUEST',
          routeArn: `local:${event.routeKey}`,
          identitySource: [],
          routeKey: event.routeKey,
          rawPath: event.rawPath,
          rawQueryString: event.rawQueryString,
          headers: event.headers,
          requestContext: event.requestContext,
          pathParameters: event.pathParameters,
          queryStringParameters: event.queryStringParameters,
        },
        localLambdaContext('authorizer', 'us-east-1', 10_000),
      )) as { isAuthorized: boolean; context?: Record<string, unknown> };
      if (record) record.inAuthorizer = false;
      if (!result.isAuthorized) return unauthorized;
      (event.requestContext as unknown as { authorizer: unknown }).authorizer = { lambda: result.context ?? {} };
      return;
    }
    const token = event.headers.authorization?.replace(/^Bearer\s+/i, '');
    const claims = token ? await claimsOf(token) : undefined;
    if (!claims) return unauthorized;
    (event.requestContext as unknown as { authorizer: unknown }).authorizer = { jwt: { claims, scopes: null } };
  }

  /** On every answer, errors included, as API Gateway's CORS configuration adds them. */
  const corsHeaders = {
    'access-control-allow-origin': options.corsOrigin ?? '*',
    // One server for both: what a browser may send the API's routes and the gateway (the OpenAI SDK's headers).
    'access-control-allow-headers': [...new Set([...API_ALLOW_HEADERS, ...GATEWAY_ALLOW_HEADERS])].join(', '),
    'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
    'access-control-max-age': '600',
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    if (method === 'OPTIONS') {
      res.writeHead(204, corsHeaders).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    // A body past the limit is read to its end and dropped: leaving the loop would destroy the
    // request, and its socket with it, before the client could read the 413.
    if (hasBody(req))
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
      }
    if (size > MAX_BODY_BYTES)
      return send(
        res,
        problem(413, 'Payload too large', 'Bodies are limited to 6 MiB, what a Lambda request holds', url.pathname),
        corsHeaders,
      );
    const candidates = (bySegments.get(slashes(url.pathname)) ?? []).filter((c) => c.pattern.test(url.pathname));
    const match = candidates.find((c) => c.route.method === method) ?? gatewayFunctionUrl(url.pathname, method);
    if (!match) {
      const detail = `No route for ${method} ${url.pathname}`;
      if (!candidates.length) return send(res, problem(404, 'Not found', detail, url.pathname), corsHeaders);
      // RFC 9110 §15.5.6: a 405 names the methods the resource allows.
      const allow = [...new Set(candidates.map((c) => c.route.method))].join(', ');
      return send(res, problem(405, 'Method not allowed', detail, url.pathname, { allow }), corsHeaders);
    }
    const values = match.pattern.exec(url.pathname)!.slice(1);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
    const body = Buffer.concat(chunks);
    const routeKey = `${match.route.method} ${match.route.path}`;
    const now = new Date();
    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      cookies: headers.cookie?.split(/;\s*/),
      headers,
      queryStringParameters: Object.keys(query).length ? query : undefined,
      pathParameters: match.names.length
        ? Object.fromEntries(match.names.map((n, i) => [n, decodedOrAsSent(values[i]!)]))
        : undefined,
      ...eventBody(body),
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: headers.host ?? 'localhost',
        domainPrefix: 'local',
        http: {
          method,
          path: url.pathname,
          protocol: 'HTTP/1.1',
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey,
        stage: '$default',
        time: now.toISOString(),
        timeEpoch: now.getTime(),
      },
    };
    const record: RequestRecord = {
      routeId: match.route.id,
      dynamoRequests: [],
      authorizerRequests: [],
      idempotencyRequests: [],
      limitRequests: [],
    };
    const extra = { ...corsHeaders, 'x-local-route': match.route.id };
    const recorded = <T>(fn: () => Promise<T>) => (options.onRequest ? currentRequest.run(record, fn) : fn());
    const result = await recorded(async () => {
      const denied = await authorize(match.route, event);
      if (denied) return denied;
      const handler = await load(match.route.handler);
      return invoke(match.route.handler, async () => {
        // The gateway (the one streaming function) gets its deployed time limit, which bounds its providers' deadline.
        const timeoutMs = isStreamingHandler(handler) ? GATEWAY_TIMEOUT_SECONDS * 1000 : 60_000;
        const context = localLambdaContext(match.route.id, 'us-east-1', timeoutMs);
        if (isStreamingHandler(handler)) {
          const stream = responseStreamTo(res, extra);
          await handler(event, stream, context);
          if (!stream.writableFinished && !stream.destroyed) await new Promise<void>((resolve) => stream.end(resolve));
          return { statusCode: res.statusCode, streamed: true as const };
        }
        return (await handler(event, context)) as APIGatewayProxyStructuredResultV2 | string;
      });
    });
    if (typeof result === 'object' && result && 'streamed' in result) {
      options.onRequest?.({ ...record, method, path: url.pathname, status: result.statusCode });
      return;
    }
    const structured: APIGatewayProxyStructuredResultV2 =
      typeof result === 'string' || !result || !('statusCode' in (result as object))
        ? { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) }
        : (result as APIGatewayProxyStructuredResultV2);
    if (!options.onRequest) return send(res, structured, extra);
    options.onRequest({ ...record, method, path: url.pathname, status: structured.statusCode ?? 200 });
    // Local only: what the request cost in DynamoDB, for the end-to-end recorder.
    send(res, structured, {
      ...extra,
      'x-local-dynamodb': record.dynamoRequests.join(',') || '-',
      'x-local-dynamodb-other':
        [...record.authorizerRequests, ...record.idempotencyRequests, ...record.limitRequests].join(',') || '-',
    });
  }

  // Invocations still running, answered or not: a handler may work on after its answer (the
  // gateway meters a call after its last chunk), as a Lambda invocation does until it returns.
  let running = 0;
  let idle: Array<() => void> = [];
  const server = createServer((req, res) => {
    running++;
    handle(req, res)
      .catch((error: unknown) => {
        console.error('local server: unhandled error', error);
        if (!res.headersSent)
          send(
            res,
            problem(500, 'Internal error', 'The local server failed; see its log', (req.url ?? '/').split('?')[0]!),
            corsHeaders,
          );
      })
      .finally(() => {
        if (--running > 0) return;
        for (const resolve of idle) resolve();
        idle = [];
      });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    /** Resolves once no invocation is running: every answer given and the work after it done. */
    settled: () => (running === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2, extra: Record<string, string> = {}) {
  const headers: Record<string, string | string[]> = { ...extra };
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body === undefined ? undefined : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(body);
}

/**
 * What Lambda gives a streaming handler, over a local socket: the prelude (status, headers)
 * becomes the response head, each write goes out at once, and a client that hangs up destroys
 * the stream, as on AWS, so the handler sees it.
 */
function responseStreamTo(res: ServerResponse, extra: Record<string, string>): LocalResponseStream {
  const head = (prelude: ResponsePrelude) => {
    if (res.headersSent) return;
    const headers: Record<string, string | string[]> = { ...extra };
    for (const [k, v] of Object.entries(prelude.headers ?? {})) headers[k.toLowerCase()] = String(v);
    if (prelude.cookies?.length) headers['set-cookie'] = prelude.cookies;
    res.writeHead(prelude.statusCode, headers);
    res.flushHeaders();
  };
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      head({ statusCode: 200, headers: { 'content-type': 'application/octet-stream' } });
      if (res.write(chunk)) callback();
      else res.once('drain', () => callback());
    },
    final(callback) {
      head({ statusCode: 200 });
      res.end(() => callback());
    },
  }) as LocalResponseStream;
  stream.setPrelude = head;
  res.once('close', () => {
    if (!res.writableFinished) stream.destroy(new Error('The client closed the connection'));
  });
  return stream;
}
