/**
 * A load generator in its own process, so the server under test keeps its event loop:
 * `tsx load.ts <url> <token> <concurrency> <seconds> <serialSeconds>` prints JSON latencies.
 */
import { Agent, request } from 'node:http';

const [url, token, concurrency, seconds, serialSeconds] = process.argv.slice(2);
const target = new URL(url!);
const agent = new Agent({ keepAlive: true, maxSockets: Number(concurrency) });

function get(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(target, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(Number(process.hrtime.bigint() - started) / 1e6)
          : reject(new Error(`status ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const warmEnd = Date.now() + Number(process.env.BENCH_WARMUP_SECONDS ?? 5) * 1000;
while (Date.now() < warmEnd) await get(); // warm-up: both JITs, connections
const serial: number[] = [];
const serialEnd = Date.now() + Number(serialSeconds) * 1000;
while (Date.now() < serialEnd) serial.push(await get());

const loaded: number[] = [];
const started = Date.now();
const end = started + Number(seconds) * 1000;
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (Date.now() < end) loaded.push(await get());
  }),
);
process.stdout.write(JSON.stringify({ serial, loaded, seconds: (Date.now() - started) / 1000 }));
agent.destroy();
