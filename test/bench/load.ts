/**
 * A load generator in its own process, so the server under test keeps its event loop:
 * `tsx load.ts '<json LoadSpec>'` prints `{ serial, loaded, seconds }` (latencies in ms) as JSON.
 * First a warm-up, then one client in sequence (`serial`), then `concurrency` clients (`loaded`).
 * With `firstToken`, a sample is the time to the first server-sent event that carries content,
 * and the rest of the stream is read before the next request.
 */
import { Agent, request } from 'node:http';

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
}

/** A streamed chunk with text in it: OpenAI's `"content":"x…"` delta. */
const CONTENT = /"content":"[^"]/;

export async function runLoad(spec: LoadSpec) {
  const target = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const payload = spec.body === undefined ? undefined : JSON.stringify(spec.body);
  const headers = { ...spec.headers, ...(payload ? { 'content-type': 'application/json' } : {}) };

  const reported: number[] = [];
  const once = (report = false) =>
    new Promise<number>((resolve, reject) => {
      const started = process.hrtime.bigint();
      const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
      const req = request(target, { agent, method: spec.method ?? 'GET', headers }, (res) => {
        let first: number | undefined;
        let seen = '';
        const value = spec.reportHeader && report ? Number(res.headers[spec.reportHeader]) : Number.NaN;
        if (Number.isFinite(value)) reported.push(value);
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (!spec.firstToken || first !== undefined) return;
          seen += chunk;
          if (CONTENT.test(seen)) first = elapsed();
        });
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`${spec.url}: status ${res.statusCode} ${seen}`));
          if (spec.firstToken && first === undefined) return reject(new Error(`${spec.url}: no content in the stream`));
          resolve(first ?? elapsed());
        });
      });
      req.on('error', reject);
      req.end(payload);
    });

  const warmEnd = Date.now() + (spec.warmupSeconds ?? 5) * 1000;
  while (Date.now() < warmEnd) await once(); // both JITs, connections, caches
  const serial: number[] = [];
  const serialEnd = Date.now() + spec.serialSeconds * 1000;
  while (Date.now() < serialEnd) serial.push(await once(true));

  const loaded: number[] = [];
  const started = Date.now();
  const end = started + spec.seconds * 1000;
  if (spec.seconds > 0)
    await Promise.all(
      Array.from({ length: spec.concurrency }, async () => {
        while (Date.now() < end) loaded.push(await once());
      }),
    );
  agent.destroy();
  return { serial, loaded, reported, seconds: (Date.now() - started) / 1000 };
}

if (process.argv[1] === import.meta.filename) {
  process.stdout.write(JSON.stringify(await runLoad(JSON.parse(process.argv[2]!) as LoadSpec)));
}
