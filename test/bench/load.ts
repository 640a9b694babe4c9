/**
 * A load generator in its own process, so the server under test keeps its event loop:
 * `tsx load.ts '<json LoadSpec>'` prints `{ serial, loaded, seconds }` (latencies in ms) as JSON.
 * First a warm-up, then one client in sequence (`serial`), then `concurrency` clients (`loaded`).
 * With `firstToken`, a sample is the time to the first server-sent event that carries content,
 * and the rest of the stream is read before the next request.
 *
 * Each client is one keep-alive HTTP/1.1 connection that writes the same request bytes, built
 * once, and reads the answer by its framing (Content-Length or chunked), as wrk or autocannon do:
 * on two cores the generator shares the machine with the server and DynamoDB Local, and
 * `node:http`'s client cost it about four times as much CPU per request.
 */
import { connect, type Socket } from 'node:net';

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
  concurrency: number;
  seconds: number;
  serialSeconds: number;
  warmupSeconds?: number;
  firstToken?: boolean;
  /** A numeric response header to collect from the serial samples (the gateway's own overhead). */
  reportHeader?: string;
  /** A pause after each warm-up and serial request: the pace of one client that thinks between calls. */
  pauseMs?: number;
}

/** A streamed chunk with text in it: OpenAI's `"content":"x…"` delta. */
const CONTENT = /"content":"[^"]/;
const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

interface Answer {
  status: number;
  /** The response head, lower-cased. */
  head: string;
  /** When the first content of a stream arrived (firstToken), ms after the request was written. */
  firstMs?: number;
  text: string;
}

/** The request, serialised once: every request of a run is the same. */
function requestBytes(spec: LoadSpec, target: URL): Buffer {
  const payload = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body));
  const headers: Record<string, string> = {
    host: target.host,
    ...spec.headers,
    ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
  };
  const head = [
    `${spec.method ?? 'GET'} ${target.pathname}${target.search} HTTP/1.1`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ].join('\r\n');
  return payload ? Buffer.concat([Buffer.from(head), payload]) : Buffer.from(head);
}

/** One keep-alive connection answering one request at a time. */
class Connection {
  private socket?: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private pending?: {
    resolve: (answer: Answer) => void;
    reject: (error: Error) => void;
    started: bigint;
    firstToken: boolean;
    head?: string;
    status?: number;
    /** Where the body starts in `buffer`, and how it is framed. */
    bodyAt?: number;
    length?: number;
    chunked?: boolean;
    /** Chunked: where the next chunk's size line starts, and the body read so far. */
    next?: number;
    text: string;
    firstMs?: number;
  };

  constructor(private readonly target: URL) {}

  request(bytes: Buffer, firstToken: boolean): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, started: process.hrtime.bigint(), firstToken, text: '' };
      this.buffer = Buffer.alloc(0);
      (this.socket ??= this.open()).write(bytes);
    });
  }

  close() {
    this.socket?.destroy();
  }

  private open(): Socket {
    const socket = connect({ host: this.target.hostname, port: Number(this.target.port || 80), noDelay: true });
    socket.on('data', (data: Buffer) => this.receive(data));
    const fail = (error: Error) => {
      this.socket = undefined;
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error(`${this.target.href}: the server closed the connection`)));
    return socket;
  }

  private receive(data: Buffer) {
    const p = this.pending;
    if (!p) return;
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : data;
    if (p.bodyAt === undefined) {
      const end = this.buffer.indexOf(HEAD_END);
      if (end < 0) return;
      p.head = this.buffer.subarray(0, end).toString('latin1').toLowerCase();
      p.status = Number(p.head.slice(9, 12));
      p.bodyAt = end + 4;
      const length = /\r\ncontent-length: *(\d+)/.exec(p.head);
      p.chunked = !length && /\r\ntransfer-encoding: *chunked/.test(p.head);
      p.length = length ? Number(length[1]) : p.status === 204 || p.status === 304 ? 0 : undefined;
      p.next = p.bodyAt;
    }
    if (p.chunked) return this.readChunks(p);
    if (p.firstToken) this.sawText(p, this.buffer.subarray(p.bodyAt).toString('utf8'));
    if (p.length !== undefined && this.buffer.length - p.bodyAt >= p.length) this.finish(p);
  }

  private readChunks(p: NonNullable<Connection['pending']>) {
    for (;;) {
      const lineEnd = this.buffer.indexOf(CRLF, p.next);
      if (lineEnd < 0) return;
      const size = parseInt(this.buffer.subarray(p.next, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        if (this.buffer.length < lineEnd + 4) return; // the last chunk's blank line
        return this.finish(p);
      }
      const dataEnd = lineEnd + 2 + size;
      if (this.buffer.length < dataEnd + 2) return;
      this.sawText(p, this.buffer.subarray(lineEnd + 2, dataEnd).toString('utf8'));
      p.next = dataEnd + 2;
    }
  }

  private sawText(p: NonNullable<Connection['pending']>, text: string) {
    if (!p.firstToken && p.status === 200) return;
    p.text = p.chunked ? p.text + text : text;
    if (p.firstToken && p.firstMs === undefined && CONTENT.test(p.text))
      p.firstMs = Number(process.hrtime.bigint() - p.started) / 1e6;
  }

  private finish(p: NonNullable<Connection['pending']>) {
    this.pending = undefined;
    if (!p.chunked) p.text = this.buffer.subarray(p.bodyAt, p.bodyAt! + (p.length ?? 0)).toString('utf8');
    p.resolve({ status: p.status!, head: p.head!, firstMs: p.firstMs, text: p.text });
  }
}

export async function runLoad(spec: LoadSpec) {
  const target = new URL(spec.url);
  const bytes = requestBytes(spec, target);
  const reportHeader = spec.reportHeader && new RegExp(`\\r\\n${spec.reportHeader.toLowerCase()}: *([^\\r]*)`);

  const reported: number[] = [];
  const once = async (connection: Connection, report = false) => {
    const started = process.hrtime.bigint();
    const answer = await connection.request(bytes, spec.firstToken ?? false);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (answer.status !== 200) throw new Error(`${spec.url}: status ${answer.status} ${answer.text}`);
    if (spec.firstToken && answer.firstMs === undefined) throw new Error(`${spec.url}: no content in the stream`);
    const value = reportHeader && report ? Number(reportHeader.exec(answer.head)?.[1]) : Number.NaN;
    if (Number.isFinite(value)) reported.push(value);
    return answer.firstMs ?? elapsed;
  };

  const pause = () => (spec.pauseMs ? new Promise((resolve) => setTimeout(resolve, spec.pauseMs)) : undefined);
  const first = new Connection(target);
  const warmEnd = Date.now() + (spec.warmupSeconds ?? 5) * 1000;
  while (Date.now() < warmEnd) {
    await once(first); // both JITs, connections, caches
    await pause();
  }
  const serial: number[] = [];
  const serialEnd = Date.now() + spec.serialSeconds * 1000;
  while (Date.now() < serialEnd) {
    serial.push(await once(first, true));
    await pause();
  }
  first.close();

  const loaded: number[] = [];
  const started = Date.now();
  const end = started + spec.seconds * 1000;
  if (spec.seconds > 0)
    await Promise.all(
      Array.from({ length: spec.concurrency }, async () => {
        const connection = new Connection(target);
        while (Date.now() < end) loaded.push(await once(connection));
        connection.close();
      }),
    );
  return { serial, loaded, reported, seconds: (Date.now() - started) / 1000 };
}

if (process.argv[1] === import.meta.filename) {
  process.stdout.write(JSON.stringify(await runLoad(JSON.parse(process.argv[2]!) as LoadSpec)));
}
