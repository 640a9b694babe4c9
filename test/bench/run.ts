/**
 * `npm run bench`: measures what ARCHITECTURE.md and the issues set as targets, on this
 * machine, and writes bench-results/latest.json and bench-results/README.md.
 *  - bundle size and init (cold import) time of every function vs a bare DynamoDB handler;
 *  - p50 / p99 latency and requests per second of GET /v1/me through the local server;
 *  - a cold request: a fresh process imports GET /v1/me's function and answers once;
 *  - DynamoDB requests per route (from the end-to-end recorder of the last test run).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleFunctions, bundleName, type FunctionBundle } from '../../infra/constructs/esbuild.ts';
import { functionsDir, handlerEntry } from '../../infra/paths.ts';
import { deployedFunctions, writeBareGetItemHandler, writeBareHandler, writeStackHandlers } from './bundle.ts';
import { PAUSE_MS, gatewayBench } from './gateway.ts';
import type { LoadSpec } from './load.ts';

const execFileAsync = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const OUT = join(ROOT, 'bench-results');
const TMP = join(OUT, 'tmp');
const INIT_RUNS = Number(process.env.BENCH_INIT_RUNS ?? 7);
/** The floor's steps differ by a few milliseconds each: more samples than a function's. */
const FLOOR_RUNS = Number(process.env.BENCH_FLOOR_RUNS ?? 21);
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

/** Cold start as Lambda pays it: a fresh Node process, with no NODE_OPTIONS as deployed, importing the bundle. */
function coldStart(dir: string): number {
  const script = `const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(join(dir, 'index.mjs')).href)});
process.stdout.write(String(performance.now() - t0));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      AWS_REGION: 'us-east-1',
      TABLE_NAME: 'bench',
      USER_POOL_ID: 'us-east-1_x',
      USER_POOL_CLIENT_ID: 'x',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  return Number(out.toString());
}

/** Each sample of a function is paired with one of the bare handler, taken just before: a busy machine skews both alike. */
function pairedColdStarts(built: FunctionBundle, bare: FunctionBundle, runs = INIT_RUNS) {
  const samples = Array.from({ length: runs }, () => ({
    bare: coldStart(bare.dir),
    initMs: coldStart(built.dir),
  }));
  const bareMs = median(samples.map((s) => s.bare));
  const initMs = median(samples.map((s) => s.initMs));
  return { bare: samples.map((s) => s.bare), initMs, ratio: initMs / bareMs };
}

async function functionsBench() {
  const { routes } = await import('@platform/api/manifest');
  const selected = (entry: string) =>
    !process.env.BENCH_FUNCTIONS ||
    process.env.BENCH_FUNCTIONS.split(',').includes(bundleName(entry).replace(/^functions\//, ''));
  const [bare] = [...(await bundleFunctions([writeBareHandler(TMP)], join(TMP, 'bare'))).values()];
  const bareSamples: number[] = [];
  const rows = [];
  for (const [entry, built] of await bundleFunctions(deployedFunctions(routes).filter(selected), join(TMP, 'functions'))) {
    const { bare: pairedBare, initMs, ratio } = pairedColdStarts(built, bare!);
    bareSamples.push(...pairedBare);
    rows.push({
      function: bundleName(entry).replace(/^functions\//, ''),
      bytes: built.initBytes,
      files: built.initFiles,
      lazyBytes: built.lazyBytes,
      initMs: +initMs.toFixed(1),
      ratio: +ratio.toFixed(2),
    });
  }
  const stackHandlers = writeStackHandlers(join(TMP, 'stack-src'));
  const stackBuilt = await bundleFunctions(
    stackHandlers.map((s) => s.entry),
    join(TMP, 'stack'),
  );
  const stack = stackHandlers.map(({ name, entry, alternative }) => {
    const built = stackBuilt.get(entry)!;
    const { bare: pairedBare, initMs, ratio } = pairedColdStarts(built, bare!, FLOOR_RUNS);
    bareSamples.push(...pairedBare);
    return { step: name, alternative, bytes: built.initBytes, initMs: +initMs.toFixed(1), ratio: +ratio.toFixed(2) };
  });
  return { bare: { bytes: bare!.initBytes, initMs: +median(bareSamples).toFixed(1) }, stack, functions: rows };
}

/**
 * A debit (one transaction) and a limit check (one conditional write), each in sequence, warm;
 * beside them, the floor under a debit on this machine at this moment: a bare transaction of the
 * same shape (an update and a conditional put, of small items with no index) sent raw through
 * the SDK. A debit's items are larger and its ledger row is indexed (by type and by date).
 */
async function ledgerBench() {
  const { credit, debit } = await import('@platform/domain/billing/ledger');
  const { consume } = await import('@platform/domain/billing/limits');
  const { dynamo, tableName } = await import('@platform/domain/shared/dynamo');
  const { TransactWriteCommand } = await import('@aws-sdk/lib-dynamodb');
  const TableName = tableName();
  const pk = `bench#raw#${Date.now()}`;
  const rawTransaction = (i: number) =>
    dynamo().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName,
              Key: { pk, sk: 'account' },
              UpdateExpression: 'ADD balance :m',
              ExpressionAttributeValues: { ':m': -1 },
            },
          },
          {
            Put: {
              TableName,
              Item: { pk, sk: `entry#${i}`, amount: 1 },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      }),
    );
  const orgId = `org_bench${Date.now()}`;
  await credit(orgId, 'bench-grant', 'grant', 1_000_000);
  const org = { orgId, planId: 'free', limitOverrides: [{ subject: 'org', resource: 'bench', hourly: 1_000_000 }] };
  const timed = async (fn: () => Promise<unknown>) => {
    const started = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  /** The measured calls, taken in turn (the raw transaction, then the debit, then the limit check, …): a slow stretch of the host slows all alike. */
  const calls = {
    rawTransaction: (i: number) => rawTransaction(i),
    debit: (i: number) => debit(orgId, `bench-${i}`, 1),
    limitCheck: () => consume(org, [{ kind: 'org', id: orgId }], ['bench']),
  };
  const samples = { rawTransaction: [] as number[], debit: [] as number[], limitCheck: [] as number[] };
  for (let i = -200; i < 500; i++) {
    for (const [name, call] of Object.entries(calls) as [keyof typeof calls, (i: number) => Promise<unknown>][]) {
      const ms = await timed(() => call(i));
      if (i >= 0) samples[name].push(ms); // the first 200 rounds warm up
    }
  }
  return {
    rawTransaction: stats(samples.rawTransaction),
    debit: stats(samples.debit),
    limitCheck: stats(samples.limitCheck),
  };
}

/** Runs the load generator in its own process (see load.ts). */
async function load(spec: LoadSpec) {
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'load.ts'), JSON.stringify(spec)],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  return JSON.parse(stdout.toString()) as { serial: number[]; loaded: number[]; reported: number[]; seconds: number };
}

const stats = (xs: number[]) => ({
  samples: xs.length,
  p50Ms: +percentile(xs, 50).toFixed(2),
  p99Ms: +percentile(xs, 99).toFixed(2),
});

type Cloud = Awaited<ReturnType<typeof import('@platform/local/cloud').startLocalCloud>>;

/** The seeded demo user's access token, from the local cloud's sign-in. */
async function demoAccessToken(cloud: Cloud) {
  const signIn = await fetch(`${cloud.url}/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: cloud.demo!.user.email, password: cloud.demo!.user.password }),
  });
  return ((await signIn.json()) as { accessToken: string }).accessToken;
}

/** Rounds of load until two in a row agree within this share: the server is then in its steady state. */
const STEADY_WITHIN = 0.05;
const MAX_LOAD_ROUNDS = 8;

/**
 * GET /v1/me as the demo user: one client in sequence, then CONCURRENCY clients. Throughput is
 * the server's steady state: DynamoDB Local's JIT compiles its hot paths only after tens of
 * thousands of requests (about 30 s of this load here), so rounds of LOAD_SECONDS run until two
 * in a row agree within STEADY_WITHIN, and the last one counts. Every round is reported.
 */
async function meBench(cloud: Cloud) {
  const accessToken = await demoAccessToken(cloud);
  const spec = { url: `${cloud.url}/v1/me`, headers: { authorization: `Bearer ${accessToken}` }, concurrency: CONCURRENCY };
  const { serial } = await load({ ...spec, seconds: 0, serialSeconds: 2 });
  const rounds: number[] = [];
  let loaded: number[] = [];
  for (let round = 0; round < MAX_LOAD_ROUNDS; round++) {
    const result = await load({ ...spec, seconds: LOAD_SECONDS, serialSeconds: 0, warmupSeconds: 0 });
    const perSecond = result.loaded.length / result.seconds;
    const previous = rounds.at(-1);
    rounds.push(Math.round(perSecond));
    loaded = result.loaded;
    if (previous !== undefined && Math.abs(perSecond - previous) <= STEADY_WITHIN * previous) break;
  }
  return {
    route: 'GET /v1/me',
    serial: stats(serial),
    loaded: { concurrency: CONCURRENCY, requestsPerSecond: rounds.at(-1)!, rounds, ...stats(loaded) },
  };
}

/**
 * A cold request as the user meets it: a fresh Node process, with no NODE_OPTIONS as deployed,
 * imports `identity/get-me` and answers one GET /v1/me from the local cloud's DynamoDB, beside a
 * bare handler that imports the DynamoDB client and sends one GetItem (sample paired with
 * sample). Its first call pays what is built on first use: the DynamoDB client, the entity.
 */
async function coldRequestBench(cloud: Cloud) {
  const built = await bundleFunctions(
    [handlerEntry(functionsDir, 'identity/get-me'), writeBareGetItemHandler(join(TMP, 'cold-request-src'))],
    join(TMP, 'cold-request'),
  );
  const [getMe, bare] = [...built.values()];
  const token = await demoAccessToken(cloud);
  const sub = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
  const event = {
    version: '2.0',
    routeKey: 'GET /v1/me',
    rawPath: '/v1/me',
    rawQueryString: '',
    headers: { accept: 'application/json' },
    requestContext: {
      requestId: 'bench',
      routeKey: 'GET /v1/me',
      http: { method: 'GET', path: '/v1/me', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      authorizer: { jwt: { claims: { sub, token_use: 'access' }, scopes: null } },
    },
    isBase64Encoded: false,
  };
  const script = `const t0 = performance.now();
const { handler } = await import(process.env.BENCH_BUNDLE);
const t1 = performance.now();
const context = { functionName: 'bench', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench', memoryLimitInMB: '1024', awsRequestId: 'bench', logGroupName: '/aws/lambda/bench', logStreamName: 'bench', callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 10_000 };
const result = await handler(JSON.parse(process.env.BENCH_EVENT), context);
const t2 = performance.now();
process.stdout.write(JSON.stringify({ status: result.statusCode, initMs: t1 - t0, firstCallMs: t2 - t1 }));`;
  const coldRequest = (dir: string) => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        BENCH_BUNDLE: pathToFileURL(join(dir, 'index.mjs')).href,
        BENCH_EVENT: JSON.stringify(event),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    const sample = JSON.parse(out.toString()) as { status: number; initMs: number; firstCallMs: number };
    if (sample.status !== 200) throw new Error(`A cold GET /v1/me answered ${sample.status}`);
    return sample;
  };
  const samples = Array.from({ length: INIT_RUNS }, () => ({ bare: coldRequest(bare!.dir), getMe: coldRequest(getMe!.dir) }));
  const summary = (xs: { initMs: number; firstCallMs: number }[]) => ({
    totalMs: +median(xs.map((x) => x.initMs + x.firstCallMs)).toFixed(1),
    initMs: +median(xs.map((x) => x.initMs)).toFixed(1),
    firstCallMs: +median(xs.map((x) => x.firstCallMs)).toFixed(1),
  });
  const me = summary(samples.map((s) => s.getMe));
  const baseline = summary(samples.map((s) => s.bare));
  return { route: 'GET /v1/me', ...me, bare: baseline, ratio: +(me.totalMs / baseline.totalMs).toFixed(2) };
}

async function withCloud<T>(fn: (cloud: Cloud) => Promise<T>): Promise<T> {
  const { startLocalCloud } = await import('@platform/local/cloud');
  const cloud = await startLocalCloud({ port: 0, seed: true });
  try {
    return await fn(cloud);
  } finally {
    await cloud.stop();
  }
}

async function latencyRound(cloud: Cloud) {
  const me = await meBench(cloud);
  console.log('Load-testing the gateway against a fake provider…');
  const gateway = await gatewayBench(cloud, load, stats, { concurrency: CONCURRENCY, seconds: LOAD_SECONDS });
  const ledger = await ledgerBench();
  console.log('Timing cold requests…');
  const coldRequest = await coldRequestBench(cloud);
  return { ledger, me, gateway, coldRequest };
}

/**
 * Two rounds on one local cloud; the first, not reported, warms it: DynamoDB Local's JIT (C2)
 * compiles its hot paths in the first seconds of load, and Node's does the same for ours.
 */
const latencyBench = () =>
  withCloud(async (cloud) => {
    console.log('Warming the local cloud up: one round of the load tests, not reported…');
    await latencyRound(cloud);
    console.log('The measured round…');
    return latencyRound(cloud);
  });

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
if (process.env.BENCH_ONLY === 'cold-request') {
  console.log(JSON.stringify({ machine, coldRequest: await withCloud(coldRequestBench) }, null, 2));
  rmSync(TMP, { recursive: true, force: true });
  process.exit(0);
}
if (process.env.BENCH_ONLY === 'gateway') {
  const round = (cloud: Cloud) => gatewayBench(cloud, load, stats, { concurrency: CONCURRENCY, seconds: LOAD_SECONDS });
  const gateway = await withCloud(async (cloud) => (await round(cloud), round(cloud))); // the first round warms up
  console.log(JSON.stringify({ machine, gateway }, null, 2));
  process.exit(0);
}
if (process.env.BENCH_ONLY === 'ledger') {
  console.log(JSON.stringify({ machine, ledger: await withCloud(() => ledgerBench()) }, null, 2));
  process.exit(0);
}
if (process.env.BENCH_ONLY === 'me') {
  console.log(JSON.stringify({ machine, me: await withCloud(meBench) }, null, 2));
  process.exit(0);
}
console.log('Bundling and timing cold imports of every function…');
const functions = await functionsBench();
if (process.env.BENCH_FUNCTIONS) {
  console.table([functions.bare, ...functions.stack, ...functions.functions]);
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
  gatewayOverheadP50MsMax: 3,
  gatewayOverheadP99MsMax: 10,
  gatewayFirstTokenOverheadMsMax: 3,
  gatewayRpsMin: 500,
};
const worstInit = functions.functions.reduce((a, b) => (b.ratio > a.ratio ? b : a));
const ladder = functions.stack.filter((s) => !s.alternative);
const floor = ladder.at(-1)!;
const results = { machine, targets, functions, latency, dynamoRequestsPerRoute: dynamo };
writeFileSync(join(OUT, 'latest.json'), JSON.stringify(results, null, 2));

const g = latency.gateway;
const check = (ok: boolean) => (ok ? 'met' : '**missed**');
const lines = [
  '# Benchmark results',
  '',
  `Written by \`npm run bench\` on ${machine.date} (${machine.cpus} × ${machine.cpu}, Node ${machine.node}). Raw numbers: [latest.json](latest.json).`,
  '',
  '| measure | target | result | |',
  '|---|---|---|---|',
  `| cold import of a function vs a bare DynamoDB handler (${functions.bare.initMs} ms, ${(functions.bare.bytes / 1024).toFixed(0)} KiB) | ≤ ${targets.initRatioMax}× | worst ${worstInit.ratio}× (${worstInit.function}) | ${check(worstInit.ratio <= targets.initRatioMax)} |`,
  `| the floor: the bare handler and the libraries every function is fixed to (${ladder.map((s) => s.step.replace(/^\+ /, '')).join(', ')}), no code of ours (below) | (no target) | ${floor.ratio}× (${floor.initMs} ms, ${(floor.bytes / 1024).toFixed(0)} KiB) | |`,
  `| a cold request: a fresh process imports \`identity/get-me\` and answers one GET /v1/me (init + first call) | (no target) | ${latency.coldRequest.totalMs} ms (${latency.coldRequest.initMs} + ${latency.coldRequest.firstCallMs}) against a bare GetItem handler's ${latency.coldRequest.bare.totalMs} ms (${latency.coldRequest.bare.initMs} + ${latency.coldRequest.bare.firstCallMs}): ${latency.coldRequest.ratio}× | |`,
  `| GET /v1/me p50, one client | ≤ ${targets.meP50MsMax} ms | ${latency.me.serial.p50Ms} ms (p99 ${latency.me.serial.p99Ms} ms) | ${check(latency.me.serial.p50Ms <= targets.meP50MsMax)} |`,
  `| GET /v1/me throughput, ${latency.me.loaded.concurrency} clients, steady state (rounds of ${LOAD_SECONDS} s until two agree within ${STEADY_WITHIN * 100}%: ${latency.me.loaded.rounds.join(', ')}/s) | ≥ ${targets.meRpsMin}/s | ${latency.me.loaded.requestsPerSecond}/s (p50 ${latency.me.loaded.p50Ms} ms, p99 ${latency.me.loaded.p99Ms} ms) | ${check(latency.me.loaded.requestsPerSecond >= targets.meRpsMin)} |`,
  `| a debit (one transaction), p50 | ≤ ${targets.ledgerP50MsMax} ms | ${latency.ledger.debit.p50Ms} ms (p99 ${latency.ledger.debit.p99Ms} ms; a bare two-item transaction, an update and a conditional put of small items with no index, sent raw: ${latency.ledger.rawTransaction.p50Ms} ms) | ${check(latency.ledger.debit.p50Ms <= targets.ledgerP50MsMax)} |`,
  `| a limit check (one conditional write), p50 | ≤ ${targets.ledgerP50MsMax} ms | ${latency.ledger.limitCheck.p50Ms} ms (p99 ${latency.ledger.limitCheck.p99Ms} ms) | ${check(latency.ledger.limitCheck.p50Ms <= targets.ledgerP50MsMax)} |`,
  ...(g
    ? [
        `| gateway overhead, one client pausing ${PAUSE_MS} ms between calls: its own time per call (\`x-gateway-overhead-ms\`) | p50 ≤ ${targets.gatewayOverheadP50MsMax} ms, p99 ≤ ${targets.gatewayOverheadP99MsMax} ms | p50 ${g.completion.reported.p50Ms} ms, p99 ${g.completion.reported.p99Ms} ms | ${check(g.completion.reported.p50Ms <= targets.gatewayOverheadP50MsMax && g.completion.reported.p99Ms <= targets.gatewayOverheadP99MsMax)} |`,
        `| gateway overhead end to end: our completion − the fake provider called directly (${g.completion.direct.p50Ms} ms) | (the same targets) | p50 ${g.completion.endToEnd.overheadP50Ms} ms, p99 ${g.completion.endToEnd.overheadP99Ms} ms | ${check(g.completion.endToEnd.overheadP50Ms <= targets.gatewayOverheadP50MsMax && g.completion.endToEnd.overheadP99Ms <= targets.gatewayOverheadP99MsMax)} |`,
        `| gateway time-to-first-token overhead, streaming, p50: reported / end to end | ≤ ${targets.gatewayFirstTokenOverheadMsMax} ms | ${g.firstToken.reported.p50Ms} ms / ${g.firstToken.endToEnd.overheadP50Ms} ms (${g.firstToken.gateway.p50Ms} ms against ${g.firstToken.direct.p50Ms} ms) | ${check(g.firstToken.endToEnd.overheadP50Ms <= targets.gatewayFirstTokenOverheadMsMax)} |`,
        `| gateway completions per second, ${g.throughput.concurrency} clients, metered: sustained, until the last call's metering landed (${g.throughput.settlingSeconds} s after the last answer) | ≥ ${targets.gatewayRpsMin}/s | ${g.throughput.gatewayPerSecond}/s (p50 ${g.throughput.gatewayLoaded.p50Ms} ms, p99 ${g.throughput.gatewayLoaded.p99Ms} ms; direct ${g.throughput.directPerSecond}/s) | ${check(g.throughput.gatewayPerSecond >= targets.gatewayRpsMin)} |`,
      ]
    : []),
  dynamo
    ? `| DynamoDB requests per route (max seen in the test run, routes allowed past it apart), Scans | ≤ ${targets.dynamoRequestsPerRouteMax}, none | max ${dynamo.maxPerRoute} (${dynamo.worstRoute}), ${dynamo.scans} Scans | ${check(dynamo.maxPerRoute <= targets.dynamoRequestsPerRouteMax && dynamo.scans === 0)} |`
    : '| DynamoDB requests per route | ≤ 3, no Scan | run `npm test` first | |',
  '',
  '## The floor',
  '',
  'The bare handler, then the libraries ARCHITECTURE.md and the foundation issue fix for every function, one step at a time, with no code of ours (`STACK_STEPS` in `test/bench/bundle.ts`). Each bundle is built as the functions are and paired with the bare handler, sample by sample.',
  '',
  '| step | cold start KiB | cold import ms | × bare |',
  '|---|---|---|---|',
  `| the bare handler: the DynamoDB client | ${(functions.bare.bytes / 1024).toFixed(0)} | ${functions.bare.initMs} | 1 |`,
  ...functions.stack.map(
    (s) => `| ${s.alternative ? `*${s.step}*` : s.step} | ${(s.bytes / 1024).toFixed(0)} | ${s.initMs} | ${s.ratio} |`,
  ),
  '',
  '## Functions',
  '',
  'A cold start loads `index.mjs` and the chunks it imports (KiB, files), the handler with its domain; the last column is what only some requests load later, with `import()` (the tracer, the API-key lookup, Idempotency-Key records, usage limits). Each function is paired with the bare handler, sample by sample.',
  '',
  '| function | cold start KiB (files) | cold import ms | × bare | loaded on use KiB |',
  '|---|---|---|---|---|',
  ...functions.functions.map(
    (f) =>
      `| ${f.function} | ${(f.bytes / 1024).toFixed(0)} (${f.files}) | ${f.initMs} | ${f.ratio} | ${(f.lazyBytes / 1024).toFixed(0)} |`,
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
        '',
        'Allowed past the budget, each for its reason (`test/helpers/budget.ts`):',
        '',
        ...Object.entries(dynamo.overBudget as Record<string, string>).map(([r, why]) => `- ${r}: ${why}`),
      ]
    : []),
  '',
];
writeFileSync(join(OUT, 'README.md'), lines.join('\n'));
console.log(lines.slice(4, lines.indexOf('', 4)).join('\n'));
