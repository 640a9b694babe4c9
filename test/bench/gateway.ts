/**
 * The gateway bench (issue 4): our completion through the local server against the same fake
 * provider called directly, so the difference is the gateway's own overhead (authentication,
 * access, routing, the limits-and-hold transaction, the adapter, the answer).
 * The call takes the fully metered path: an API key, a platform key (charged in credits), and
 * an organization routing rule. Metering's second transaction runs after the answer, so it
 * counts in throughput, not in latency, as on AWS:
 *  - Latency is one client in sequence that pauses `PAUSE_MS` after each call, direct or ours:
 *    back to back, one client sends calls faster than DynamoDB Local writes their records
 *    (alone, one transaction each), and a backlog of records would be measured instead of the
 *    call. On AWS the next call would run in another container while this one meters.
 *  - Throughput is sustained: the calls of the loaded phase over its time plus the time the
 *    server then takes to finish their metering (`cloud.settled()`).
 */
import { startFakeProvider } from '../helpers/fake-provider.ts';
import type { LoadSpec } from './load.ts';

type Load = (spec: LoadSpec) => Promise<{ serial: number[]; loaded: number[]; reported: number[]; seconds: number }>;
type Stats = (xs: number[]) => { samples: number; p50Ms: number; p99Ms: number };

const MODEL = 'gpt-4o-mini';
/** The pause of the client in sequence between calls. */
export const PAUSE_MS = 5;
const messages = [{ role: 'user', content: 'Write one line about lighthouses.' }];

async function call(url: string, method: string, path: string, token: string | undefined, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, any>;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const signIn = async (url: string, account: { email: string; password: string }) =>
  (await call(url, 'POST', '/v1/auth/sign-in', undefined, account)).accessToken as string;

/** A platform key to the fake provider, a team API key with room to spend, and a rule to the model. */
async function prepare(cloud: { url: string; demo?: any }, providerUrl: string) {
  const { url, demo } = cloud;
  const admin = await signIn(url, demo.admin);
  const owner = await signIn(url, demo.user);
  const orgId = demo.teamOrgId as string;
  await call(url, 'POST', '/v1/admin/provider-credentials', admin, {
    label: `bench ${Date.now()}`,
    providerSlug: 'openai',
    key: 'sk-bench-0000000000',
    baseUrl: providerUrl,
    isDefault: true,
  });
  const client = await call(url, 'POST', `/v1/orgs/${orgId}/api-clients`, owner, { name: 'bench', scopes: ['gateway:invoke'] });
  await call(url, 'POST', `/v1/admin/orgs/${orgId}/credits/adjustments`, admin, { amount: 100_000_000, reason: 'bench' });
  // Room for the load: an override replaces only the windows it names, so it names every window of the org's chat and API counters.
  for (const resource of ['chat', 'api'])
    await call(url, 'PUT', `/v1/admin/orgs/${orgId}/limits`, admin, { subject: 'org', resource, hourly: 1e9, daily: 1e9 });
  await call(url, 'POST', `/v1/orgs/${orgId}/routing-rules`, owner, {
    name: 'bench: the model asked for',
    priority: 1,
    modelType: 'TEXT',
    conditions: { models: [MODEL] },
    targets: [{ modelId: MODEL }],
  });
  return { key: client.key as string };
}

export async function gatewayBench(
  cloud: { url: string; demo?: any; settled(): Promise<void> },
  load: Load,
  stats: Stats,
  options: { concurrency: number; seconds: number },
) {
  const fake = await startFakeProvider({ record: false });
  try {
    // The first chunk at once, the rest later: time to first token is the first chunk's.
    fake.setDefault({ kind: 'ok', chunkDelayMs: 2 });
    const { key } = await prepare(cloud, fake.baseUrl('openai'));
    const ours = { url: `${cloud.url}/openai/v1/chat/completions`, headers: { authorization: `Bearer ${key}` } };
    const direct = { url: `${fake.baseUrl('openai')}/chat/completions`, headers: { authorization: 'Bearer sk-bench' } };
    const completion = { model: MODEL, messages, max_tokens: 64 };
    const streamed = { ...completion, stream: true, stream_options: { include_usage: true } };
    const run = async (target: typeof ours, body: unknown, extra: Partial<LoadSpec>) => {
      const result = await load({
        ...target,
        method: 'POST',
        body,
        concurrency: options.concurrency,
        seconds: 0,
        serialSeconds: 3,
        pauseMs: PAUSE_MS,
        reportHeader: 'x-gateway-overhead-ms',
        ...extra,
      });
      // The metering still running after the last answer belongs to this run.
      const answered = Date.now();
      await cloud.settled();
      return { ...result, settlingSeconds: (Date.now() - answered) / 1000 };
    };

    const directCompletion = await run(direct, completion, { seconds: options.seconds });
    const ourCompletion = await run(ours, completion, { seconds: options.seconds });
    const directStream = await run(direct, streamed, { firstToken: true, warmupSeconds: 2 });
    const ourStream = await run(ours, streamed, { firstToken: true, warmupSeconds: 2 });

    const d = stats(directCompletion.serial);
    const o = stats(ourCompletion.serial);
    const dt = stats(directStream.serial);
    const ot = stats(ourStream.serial);
    const rps = (r: { loaded: number[]; seconds: number; settlingSeconds: number }) =>
      Math.round(r.loaded.length / (r.seconds + r.settlingSeconds));
    return {
      model: MODEL,
      completion: {
        direct: d,
        gateway: o,
        endToEnd: { overheadP50Ms: +(o.p50Ms - d.p50Ms).toFixed(2), overheadP99Ms: +(o.p99Ms - d.p99Ms).toFixed(2) },
        // What the gateway reports of its own time (x-gateway-overhead-ms): all but the provider's.
        reported: stats(ourCompletion.reported),
      },
      firstToken: {
        direct: dt,
        gateway: ot,
        endToEnd: { overheadP50Ms: +(ot.p50Ms - dt.p50Ms).toFixed(2) },
        reported: stats(ourStream.reported),
      },
      throughput: {
        concurrency: options.concurrency,
        settlingSeconds: ourCompletion.settlingSeconds,
        directPerSecond: rps(directCompletion),
        gatewayPerSecond: rps(ourCompletion),
        gatewayLoaded: stats(ourCompletion.loaded),
      },
    };
  } finally {
    await fake.close();
  }
}
