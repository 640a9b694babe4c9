/**
 * `npm run bench`: measures what ARCHITECTURE.md and the issues set as targets, on this
 * machine, and writes bench-results/latest.json and bench-results/README.md.
 *  - bundle size and init (cold import) time of every function vs a bare DynamoDB handler, and
 *    what its first call loads (its domain);
 *  - p50 / p99 latency and requests per second of GET /v1/me through the local server;
 *  - DynamoDB requests per route (from the end-to-end recorder of the last test run).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FUNCTION_NODE_OPTIONS, bundleFunctions, bundleName, type FunctionBundle } from '../../infra/constructs/esbuild.ts';
import { deployedFunctions, writeBareHandler } from './bundle.ts';

const execFileAsync = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const OUT = join(ROOT, 'bench-results');
const TMP = join(OUT, 'tmp');
const INIT_RUNS = Number(process.env.BENCH_INIT_RUNS ?? 7);
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

/**
 * Cold start as Lambda pays it: a fresh Node process, with the deployed NODE_OPTIONS, importing
 * the bundle (`initMs`), then the chunks its handler loads on its first call (its domain, with
 * the AWS SDK and ElectroDB: `domainMs`), so what a cold start defers is measured too.
 */
function coldStart(dir: string, domainChunks: string[] = []): { initMs: number; domainMs: number } {
  const url = (file: string) => JSON.stringify(pathToFileURL(join(dir, file)).href);
  const script = `const t0 = performance.now(); await import(${url('index.mjs')}); const t1 = performance.now();
await Promise.all([${domainChunks.map(url).join(',')}].map((chunk) => import(chunk)));
process.stdout.write(JSON.stringify({ initMs: t1 - t0, domainMs: performance.now() - t1 }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      ...process.env,
      NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
      AWS_REGION: 'us-east-1',
      TABLE_NAME: 'bench',
      USER_POOL_ID: 'us-east-1_x',
      USER_POOL_CLIENT_ID: 'x',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  return JSON.parse(out.toString()) as { initMs: number; domainMs: number };
}

/** Each sample of a function is paired with one of the bare handler, taken just before: a busy machine skews both alike. */
function pairedColdStarts(built: FunctionBundle, bare: FunctionBundle) {
  const samples = Array.from({ length: INIT_RUNS }, () => ({
    bare: coldStart(bare.dir).initMs,
    ...coldStart(built.dir, built.domainChunks),
  }));
  const bareMs = median(samples.map((s) => s.bare));
  const initMs = median(samples.map((s) => s.initMs));
  return { bare: samples.map((s) => s.bare), initMs, domainMs: median(samples.map((s) => s.domainMs)), ratio: initMs / bareMs };
}

async function functionsBench() {
  const { routes } = await import('@platform/api/manifest');
  const selected = (entry: string) =>
    !process.env.BENCH_FUNCTIONS ||
    process.env.BENCH_FUNCTIONS.split(',').includes(bundleName(entry).replace(/^functions\//, ''));
  const [bare] = [...bundleFunctions([writeBareHandler(TMP)], join(TMP, 'bare')).values()];
  const bareSamples: number[] = [];
  const rows = [];
  for (const [entry, built] of bundleFunctions(deployedFunctions(routes).filter(selected), join(TMP, 'functions'))) {
    const { bare: pairedBare, initMs, domainMs, ratio } = pairedColdStarts(built, bare!);
    bareSamples.push(...pairedBare);
    rows.push({
      function: bundleName(entry).replace(/^functions\//, ''),
      bytes: built.initBytes,
      files: built.initFiles,
      lazyBytes: built.lazyBytes,
      initMs: +initMs.toFixed(1),
      ratio: +ratio.toFixed(2),
      domainMs: +domainMs.toFixed(1),
    });
  }
  return { bare: { bytes: bare!.initBytes, initMs: +median(bareSamples).toFixed(1) }, functions: rows };
}

/** A debit (one transaction) and a limit check (one conditional write), each in sequence, warm. */
async function ledgerBench() {
  const { credit, debit } = await import('@platform/domain/billing/ledger');
  const { consume } = await import('@platform/domain/billing/limits');
  const orgId = `org_bench${Date.now()}`;
  await credit(orgId, 'bench-grant', 'grant', 1_000_000);
  const org = { orgId, planId: 'free', limitOverrides: [{ subject: 'org', resource: 'bench', hourly: 1_000_000 }] };
  const time = async (fn: (i: number) => Promise<unknown>, n: number) => {
    for (let i = 0; i < 200; i++) await fn(-i - 1); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const started = process.hrtime.bigint();
      await fn(i);
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return { samples: n, p50Ms: +percentile(samples, 50).toFixed(2), p99Ms: +percentile(samples, 99).toFixed(2) };
  };
  return {
    debit: await time((i) => debit(orgId, `bench-${i}`, 1), 500),
    limitCheck: await time(() => consume(org, [{ kind: 'org', id: orgId }], ['bench']), 500),
  };
}

async function latencyBench() {
  const { startLocalCloud } = await import('@platform/local/cloud');
  const cloud = await startLocalCloud({ port: 0, seed: true });
  try {
    const signIn = await fetch(`${cloud.url}/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: cloud.demo!.user.email, password: cloud.demo!.user.password }),
    });
    const { accessToken } = (await signIn.json()) as { accessToken: string };
    // Asynchronous: this process serves the requests while the generator sends them.
    const { stdout: out } = await execFileAsync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, 'load.ts'),
        `${cloud.url}/v1/me`,
        accessToken,
        String(CONCURRENCY),
        String(LOAD_SECONDS),
        '2',
      ],
      { maxBuffer: 256 * 1024 * 1024 },
    );
    const { serial, loaded, seconds } = JSON.parse(out.toString()) as { serial: number[]; loaded: number[]; seconds: number };
    const ledger = await ledgerBench();
    return {
      ledger,
      route: 'GET /v1/me',
      serial: { samples: serial.length, p50Ms: +percentile(serial, 50).toFixed(2), p99Ms: +percentile(serial, 99).toFixed(2) },
      loaded: {
        concurrency: CONCURRENCY,
        samples: loaded.length,
        requestsPerSecond: Math.round(loaded.length / seconds),
        p50Ms: +percentile(loaded, 50).toFixed(2),
        p99Ms: +percentile(loaded, 99).toFixed(2),
      },
    };
  } finally {
    await cloud.stop();
  }
}

function dynamoRequestsReport() {
  const file = join(ROOT, 'test/.out/dynamodb-requests.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}

mkdirSync(OUT, { recursive: true });
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, date: new Date().toISOString() };
if (process.env.BENCH_ONLY === 'latency') {
  console.log(JSON.stringify(await latencyBench(), null, 2));
  process.exit(0);
}
console.log('Bundling and timing cold imports of every function…');
const functions = await functionsBench();
if (process.env.BENCH_FUNCTIONS) {
  console.table([functions.bare, ...functions.functions]);
  process.exit(0);
}
console.log('Load-testing GET /v1/me through the local server…');
const latency = await latencyBench();
const dynamo = dynamoRequestsReport();
rmSync(TMP, { recursive: true, force: true });

const targets = {
  initRatioMax: 1.3,
  meP50MsMax: 5,
  meRpsMin: 1000,
  ledgerP50MsMax: 3,
  dynamoRequestsPerRouteMax: 3,
};
const worstInit = functions.functions.reduce((a, b) => (b.ratio > a.ratio ? b : a));
const results = { machine, targets, functions, latency, dynamoRequestsPerRoute: dynamo };
writeFileSync(join(OUT, 'latest.json'), JSON.stringify(results, null, 2));

const check = (ok: boolean) => (ok ? 'met' : '**missed**');
const lines = [
  '# Benchmark results',
  '',
  `Written by \`npm run bench\` on ${machine.date} (${machine.cpus} × ${machine.cpu}, Node ${machine.node}). Raw numbers: [latest.json](latest.json).`,
  '',
  '| measure | target | result | |',
  '|---|---|---|---|',
  `| cold import of a function vs a bare DynamoDB handler (${functions.bare.initMs} ms, ${(functions.bare.bytes / 1024).toFixed(0)} KiB) | ≤ ${targets.initRatioMax}× | worst ${worstInit.ratio}× (${worstInit.function}) | ${check(worstInit.ratio <= targets.initRatioMax)} |`,
  `| GET /v1/me p50, one client | ≤ ${targets.meP50MsMax} ms | ${latency.serial.p50Ms} ms (p99 ${latency.serial.p99Ms} ms) | ${check(latency.serial.p50Ms <= targets.meP50MsMax)} |`,
  `| GET /v1/me throughput, ${latency.loaded.concurrency} clients | ≥ ${targets.meRpsMin}/s | ${latency.loaded.requestsPerSecond}/s (p50 ${latency.loaded.p50Ms} ms, p99 ${latency.loaded.p99Ms} ms) | ${check(latency.loaded.requestsPerSecond >= targets.meRpsMin)} |`,
  `| a debit (one transaction), p50 | ≤ ${targets.ledgerP50MsMax} ms | ${latency.ledger.debit.p50Ms} ms (p99 ${latency.ledger.debit.p99Ms} ms) | ${check(latency.ledger.debit.p50Ms <= targets.ledgerP50MsMax)} |`,
  `| a limit check (one conditional write), p50 | ≤ ${targets.ledgerP50MsMax} ms | ${latency.ledger.limitCheck.p50Ms} ms (p99 ${latency.ledger.limitCheck.p99Ms} ms) | ${check(latency.ledger.limitCheck.p50Ms <= targets.ledgerP50MsMax)} |`,
  dynamo
    ? `| DynamoDB requests per route (max seen in the test run), Scans | ≤ ${targets.dynamoRequestsPerRouteMax}, none | max ${dynamo.maxPerRoute} (${dynamo.worstRoute}), ${dynamo.scans} Scans | ${check(dynamo.maxPerRoute <= targets.dynamoRequestsPerRouteMax && dynamo.scans === 0)} |`
    : '| DynamoDB requests per route | ≤ 3, no Scan | run `npm test` first | |',
  '',
  '## Functions',
  '',
  'A cold start loads `index.mjs` and the chunks it imports (KiB, files); the handler loads its domain (the AWS SDK, ElectroDB, the entities) on its first call: the last column is what that costs, in the same process. Each function is paired with the bare handler, sample by sample.',
  '',
  '| function | cold start KiB (files) | cold import ms | × bare | lazy chunks KiB | + domain on first call ms |',
  '|---|---|---|---|---|---|',
  ...functions.functions.map(
    (f) =>
      `| ${f.function} | ${(f.bytes / 1024).toFixed(0)} (${f.files}) | ${f.initMs} | ${f.ratio} | ${(f.lazyBytes / 1024).toFixed(0)} | ${f.domainMs} |`,
  ),
  '',
  ...(dynamo
    ? [
        '## DynamoDB requests per route',
        '',
        '| route | max requests | operations |',
        '|---|---|---|',
        ...Object.entries(dynamo.routes as Record<string, { max: number; operations: string[] }>).map(
          ([r, v]) => `| ${r} | ${v.max} | ${v.operations.join(', ')} |`,
        ),
      ]
    : []),
  '',
];
writeFileSync(join(OUT, 'README.md'), lines.join('\n'));
console.log(lines.slice(4, 10).join('\n'));
