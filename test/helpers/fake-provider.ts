/**
 * A fake AI provider on loopback (node:http, a free port) that speaks three dialects, so the HTTP
 * adapters, the gateway's end-to-end tests and `npm run bench` run against real sockets:
 *
 * | dialect   | base URL to give the adapter | paths                                                                |
 * | --------- | ---------------------------- | -------------------------------------------------------------------- |
 * | OpenAI    | `fake.baseUrl('openai')`     | /v1/chat/completions (stream too), /v1/embeddings, /v1/images/generations |
 * | Anthropic | `fake.baseUrl('anthropic')`  | /v1/messages (stream too)                                            |
 * | Gemini    | `fake.baseUrl('gemini')`     | /v1beta/models/{m}:generateContent, :streamGenerateContent?alt=sse, :batchEmbedContents |
 *
 * Behaviour is scripted per model: `fake.script('model-a', times(2, { kind: 'fail', status: 429, retryAfter: 1 }))`
 * queues answers for that model's next requests; when its queue is empty the default applies (a
 * success unless `fake.setDefault` says otherwise). It records every request (dialect, operation,
 * model, headers, body) unless started with `record: false` (for load). Built to be cheap per request:
 * no work beyond parsing the body and writing the answer.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodePng } from '@platform/domain/gateway/adapters/png';

export type Dialect = 'openai' | 'anthropic' | 'gemini';
export type Operation = 'chat' | 'stream' | 'embeddings' | 'images';

export type Behaviour =
  /**
   * Answer: `text` split in words (one stream chunk each), after `delayMs`, chunks `chunkDelayMs` apart.
   * `omitUsage` (OpenAI dialect): a compatible server that ignores `include_usage`, finishing its stream without a usage chunk.
   */
  | {
      kind: 'ok';
      text?: string;
      inputTokens?: number;
      outputTokens?: number;
      delayMs?: number;
      chunkDelayMs?: number;
      omitUsage?: boolean;
    }
  /** Answer an error status in the dialect's error shape; `retryAfter` in seconds. */
  | { kind: 'fail'; status: number; retryAfter?: number; code?: string; message?: string; delayMs?: number }
  /** Stream `afterChunks` deltas, then destroy the connection (a non-streamed request: destroyed unanswered). */
  | { kind: 'drop'; afterChunks: number }
  /** Stream `afterChunks` deltas, then end cleanly without the final usage event. */
  | { kind: 'truncate'; afterChunks: number }
  /** Stream `afterChunks` deltas, then the dialect's in-stream error event (Anthropic `error`, an OpenAI error chunk), with `message` if given. */
  | { kind: 'stream-error'; afterChunks: number; code?: string; message?: string }
  /** Never answer (until the client gives up or the server closes). */
  | { kind: 'hang' };

export interface RecordedRequest {
  dialect: Dialect;
  operation: Operation;
  model: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  at: number;
}

export interface FakeProvider {
  /** http://127.0.0.1:PORT */
  url: string;
  baseUrl(dialect: Dialect): string;
  /** Queue behaviours for a model's next requests (`*`: any model without a queue of its own). */
  script(model: string, ...behaviours: Array<Behaviour | Behaviour[]>): void;
  /** What a request gets when its model's queue is empty. */
  setDefault(behaviour: Behaviour): void;
  requests: RecordedRequest[];
  /** Requests received since the start or the last reset, recorded or not. */
  received(): number;
  /** Clear scripts, the default, the recorded requests and the count. */
  reset(): void;
  close(): Promise<void>;
}

/** `n` copies of a behaviour, for `script`. */
export function times(n: number, behaviour: Behaviour): Behaviour[] {
  return Array.from({ length: n }, () => behaviour);
}

export const FAKE_TEXT = 'Hello from the fake provider.';
const DEFAULT_INPUT_TOKENS = 10;
const PNG = encodePng(2, 2, (x, y) => [x * 255, y * 255, 128]).toString('base64');

interface Route {
  dialect: Dialect;
  operation: Operation;
  model: string;
}

function route(path: string, body: Record<string, unknown>): Route | undefined {
  const model = typeof body.model === 'string' ? body.model : '';
  const stream = body.stream === true;
  switch (path) {
    case '/v1/chat/completions':
      return { dialect: 'openai', operation: stream ? 'stream' : 'chat', model };
    case '/v1/embeddings':
      return { dialect: 'openai', operation: 'embeddings', model };
    case '/v1/images/generations':
      return { dialect: 'openai', operation: 'images', model };
    case '/v1/messages':
      return { dialect: 'anthropic', operation: stream ? 'stream' : 'chat', model };
  }
  const gemini = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents)$/.exec(path);
  if (!gemini) return undefined;
  const operations = { generateContent: 'chat', streamGenerateContent: 'stream', batchEmbedContents: 'embeddings' } as const;
  return {
    dialect: 'gemini',
    operation: operations[gemini[2] as keyof typeof operations],
    model: decodeURIComponent(gemini[1]!),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function words(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

const GEMINI_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};
const ANTHROPIC_TYPE: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

function errorBody(dialect: Dialect, status: number, message: string, code?: string) {
  if (dialect === 'anthropic') return { type: 'error', error: { type: code ?? ANTHROPIC_TYPE[status] ?? 'api_error', message } };
  if (dialect === 'gemini') return { error: { code: status, message, status: code ?? GEMINI_STATUS[status] ?? 'UNKNOWN' } };
  return { error: { message, type: code ?? 'fake_error', code: code ?? null } };
}

/** The dialect's full answer to a non-streamed request. */
function answer(route: Route, body: Record<string, unknown>, ok: Extract<Behaviour, { kind: 'ok' }>) {
  const text = ok.text ?? FAKE_TEXT;
  const inputTokens = ok.inputTokens ?? DEFAULT_INPUT_TOKENS;
  const outputTokens = ok.outputTokens ?? words(text).length;
  if (route.operation === 'embeddings') {
    const requests = (body.requests ?? []) as Array<{ outputDimensionality?: number }>;
    const inputs = route.dialect === 'gemini' ? requests : [body.input ?? []].flat();
    const dimensions = Number((route.dialect === 'gemini' ? requests[0]?.outputDimensionality : body.dimensions) ?? 8);
    const vector = (i: number) => Array.from({ length: dimensions }, (_, d) => ((i + 1) * (d + 1)) / 100);
    if (route.dialect === 'gemini') return { embeddings: inputs.map((_, i) => ({ values: vector(i) })) };
    return {
      object: 'list',
      model: route.model,
      data: inputs.map((_, i) => ({ object: 'embedding', index: i, embedding: vector(i) })),
      usage: { prompt_tokens: inputTokens, total_tokens: inputTokens },
    };
  }
  if (route.operation === 'images') {
    return { created: 1_700_000_000, data: Array.from({ length: Number(body.n ?? 1) }, () => ({ b64_json: PNG })) };
  }
  if (route.dialect === 'anthropic') {
    return {
      id: 'msg_fake',
      type: 'message',
      role: 'assistant',
      model: route.model,
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: outputTokens },
    };
  }
  if (route.dialect === 'gemini') {
    return {
      candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: {
        promptTokenCount: inputTokens,
        candidatesTokenCount: outputTokens,
        totalTokenCount: inputTokens + outputTokens,
      },
      modelVersion: route.model,
    };
  }
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: route.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
  };
}

/** A dialect's stream as SSE frames: the deltas, then the frames that close it (finish reason and usage). */
function streamFrames(
  route: Route,
  body: Record<string, unknown>,
  text: string,
  inputTokens: number,
  outputTokens: number,
  omitUsage = false,
) {
  const pieces = words(text);
  const sse = (data: unknown, event?: string) => `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
  if (route.dialect === 'anthropic') {
    return {
      opening: [
        sse(
          {
            type: 'message_start',
            message: {
              id: 'msg_fake',
              type: 'message',
              role: 'assistant',
              model: route.model,
              content: [],
              usage: { input_tokens: inputTokens, output_tokens: 1 },
            },
          },
          'message_start',
        ),
        sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start'),
        sse({ type: 'ping' }, 'ping'),
      ],
      deltas: pieces.map((piece) =>
        sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } }, 'content_block_delta'),
      ),
      closing: [
        sse({ type: 'content_block_stop', index: 0 }, 'content_block_stop'),
        sse(
          {
            type: 'message_delta',
            delta: { stop_reason: 'end_turn', stop_sequence: null },
            usage: { output_tokens: outputTokens },
          },
          'message_delta',
        ),
        sse({ type: 'message_stop' }, 'message_stop'),
      ],
      error: (code = 'overloaded_error', message = 'Overloaded') =>
        sse({ type: 'error', error: { type: code, message } }, 'error'),
    };
  }
  if (route.dialect === 'gemini') {
    // Gemini separates events with CRLF pairs.
    const frame = (data: unknown) => `data: ${JSON.stringify(data)}\r\n\r\n`;
    const last = pieces.length - 1;
    return {
      opening: [],
      deltas: pieces.map((piece, i) =>
        frame({
          candidates: [
            { content: { role: 'model', parts: [{ text: piece }] }, index: 0, ...(i === last ? { finishReason: 'STOP' } : {}) },
          ],
          usageMetadata:
            i === last
              ? { promptTokenCount: inputTokens, candidatesTokenCount: outputTokens, totalTokenCount: inputTokens + outputTokens }
              : { promptTokenCount: inputTokens },
          modelVersion: route.model,
        }),
      ),
      closing: [],
      error: (code = 'INTERNAL', message = 'Internal error') => frame({ error: { code: 500, message, status: code } }),
    };
  }
  const chunk = (choices: unknown[], usage?: unknown) =>
    sse({
      id: 'chatcmpl-fake',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model: route.model,
      choices,
      ...(usage ? { usage } : {}),
    });
  const includeUsage = !omitUsage && (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  return {
    opening: [chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }])],
    deltas: pieces.map((piece) => chunk([{ index: 0, delta: { content: piece }, finish_reason: null }])),
    closing: [
      chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]),
      ...(includeUsage
        ? [chunk([], { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens })]
        : []),
      'data: [DONE]\n\n',
    ],
    error: (code = 'server_error', message = 'The server had an error') => sse({ error: { message, type: code, code } }),
  };
}

export async function startFakeProvider(options: { record?: boolean } = {}): Promise<FakeProvider> {
  const record = options.record ?? true;
  const scripts = new Map<string, Behaviour[]>();
  let fallback: Behaviour = { kind: 'ok' };
  const requests: RecordedRequest[] = [];
  let received = 0;

  function next(model: string): Behaviour {
    return scripts.get(model)?.shift() ?? scripts.get('*')?.shift() ?? fallback;
  }

  async function stream(res: ServerResponse, r: Route, body: Record<string, unknown>, behaviour: Behaviour) {
    const ok = behaviour.kind === 'ok' ? behaviour : { kind: 'ok' as const };
    const text = ok.text ?? FAKE_TEXT;
    const frames = streamFrames(
      r,
      body,
      text,
      ok.inputTokens ?? DEFAULT_INPUT_TOKENS,
      ok.outputTokens ?? words(text).length,
      ok.omitUsage,
    );
    if (ok.delayMs) await sleep(ok.delayMs);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const cut =
      behaviour.kind === 'drop' || behaviour.kind === 'truncate' || behaviour.kind === 'stream-error'
        ? behaviour.afterChunks
        : undefined;
    const deltas = cut === undefined ? frames.deltas : frames.deltas.slice(0, cut);
    if (!ok.chunkDelayMs) {
      res.write(frames.opening.join('') + deltas.join(''));
    } else {
      for (const frame of frames.opening) res.write(frame);
      for (const frame of deltas) {
        res.write(frame);
        await sleep(ok.chunkDelayMs);
        if (res.destroyed) return;
      }
    }
    if (behaviour.kind === 'drop') {
      // Let the written chunks leave before the connection dies mid-stream.
      await new Promise((resolve) => res.write('', resolve));
      res.socket?.destroy();
      return;
    }
    if (behaviour.kind === 'stream-error') return res.end(frames.error(behaviour.code, behaviour.message));
    res.end(behaviour.kind === 'truncate' ? '' : frames.closing.join(''));
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const path = (req.url ?? '/').split('?')[0]!;
    let body: Record<string, unknown>;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return sendJson(res, 400, { error: { message: 'malformed JSON' } });
    }
    const r = req.method === 'POST' ? route(path, body) : undefined;
    if (!r) return sendJson(res, 404, { error: { message: `no route ${req.method} ${path}` } });
    received++;
    if (record) requests.push({ ...r, path, headers: req.headers, body, at: Date.now() });
    const behaviour = next(r.model);
    switch (behaviour.kind) {
      case 'hang':
        return;
      case 'fail': {
        if (behaviour.delayMs) await sleep(behaviour.delayMs);
        const headers: Record<string, string> =
          behaviour.retryAfter !== undefined ? { 'retry-after': String(behaviour.retryAfter) } : {};
        const message = behaviour.message ?? `fake failure ${behaviour.status}`;
        return sendJson(res, behaviour.status, errorBody(r.dialect, behaviour.status, message, behaviour.code), headers);
      }
      case 'drop':
        if (r.operation !== 'stream') return void req.socket.destroy();
    }
    if (r.operation === 'stream') return stream(res, r, body, behaviour);
    const ok = behaviour.kind === 'ok' ? behaviour : { kind: 'ok' as const };
    if (ok.delayMs) await sleep(ok.delayMs);
    sendJson(res, 200, answer(r, body, ok));
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch(() => res.destroy());
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    baseUrl: (dialect) => (dialect === 'openai' ? `${url}/v1` : dialect === 'gemini' ? `${url}/v1beta` : url),
    script(model, ...behaviours) {
      scripts.set(model, [...(scripts.get(model) ?? []), ...behaviours.flat()]);
    },
    setDefault(behaviour) {
      fallback = behaviour;
    },
    requests,
    received: () => received,
    reset() {
      scripts.clear();
      fallback = { kind: 'ok' };
      requests.length = 0;
      received = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
