import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '@platform/api/manifest';
import { dynamo } from '@platform/domain/shared/dynamo';
import { REPO_ROOT } from '@platform/local/cloud';
import { recordDynamoRequests, type RequestRecord } from '@platform/local/recorder';
import { startLocalServer } from '@platform/local/server';
import { clearOfPeriodEnd, signUpUser } from '../helpers/api.ts';
import { keyFor } from '../helpers/gateway.ts';

/**
 * What a gateway call costs in DynamoDB requests, after-work included. The shared recorder of
 * the test run sees the gateway's first calls, which fill the container's caches (see
 * test/helpers/budget.ts); this test runs its own local server in this process, a fresh
 * container, and tells the first call from the warm ones. The gateway answers before it records
 * the call; its function returns only when the record is written, which is when the server
 * reports the request, as Lambda ends the invocation.
 */
type Recorded = RequestRecord & { status: number };
const records: Recorded[] = [];
let server: Awaited<ReturnType<typeof startLocalServer>>;

beforeAll(async () => {
  recordDynamoRequests(dynamo());
  server = await startLocalServer({
    routes,
    functionsDir: `${REPO_ROOT}/functions`,
    port: 0,
    cognito: {
      userPoolId: process.env.USER_POOL_ID!,
      clientId: process.env.USER_POOL_CLIENT_ID!,
      jwks: JSON.parse(process.env.COGNITO_JWKS!),
    },
    onRequest: (record) => records.push(record),
  });
});
afterAll(() => server?.close());

/** A request through this process's server, and what it cost once its invocation ended (after its record). */
async function recorded(path: string, key: string, body?: unknown): Promise<Recorded> {
  const before = records.length;
  const res = await fetch(`${server.url}/openai/v1${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  await res.text();
  // The answer is in; the invocation ends when its record is written.
  await server.settled();
  expect(records).toHaveLength(before + 1);
  return records.at(-1)!;
}

const call = (key: string, stream = false) =>
  recorded('/chat/completions', key, {
    model: 'local-chat',
    messages: [{ role: 'user', content: 'Count the waves.' }],
    stream,
  });
const listModels = (key: string) => recorded('/models', key);

/** The requests the route's function makes: its own, its admission (limit counters and hold), its authentication. */
const all = (r: Recorded) => [...r.dynamoRequests, ...r.limitRequests, ...r.authorizerRequests];

/** A request through this process's server, answered and its invocation ended, whatever its status. */
async function sent(path: string, key: string, body: unknown) {
  const before = records.length;
  const res = await fetch(`${server.url}/openai/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as any;
  await server.settled();
  expect(records).toHaveLength(before + 1);
  return { status: res.status, body: answer, record: records.at(-1)! };
}

describe('gateway DynamoDB requests', () => {
  it('a warm call makes its admission and its record only; the first call of a container fills its caches', async () => {
    const owner = await signUpUser('gwrequests');
    const key = await keyFor(owner, owner.personalOrgId);
    // The first call of an hour (and of a day) notes it for the roll-ups: the warm calls must fall
    // in the first one's hour, or one of them makes that write again.
    await clearOfPeriodEnd(3_600_000, 20_000);

    const first = await call(key);
    // Authentication (the key, and its last use), the caller's access (member and organization),
    // the routing snapshots (the organization's, the platform's), the plan's limits, the admission,
    // the record, and the roll-ups' markers: the model's hour (an update, which keeps how far the
    // metrics job got) and the organization's day.
    expect(all(first).sort(), all(first).join(',')).toEqual(
      [
        'GetItem',
        'UpdateItem',
        'TransactGetItems',
        'Query',
        'Query',
        'Query',
        'TransactWriteItems',
        'TransactWriteItems',
        'UpdateItem',
        'PutItem',
      ].sort(),
    );

    const warm = [await call(key), await call(key), await call(key, true)];
    for (const record of warm) {
      // Its admission (one by one, or a lease taken for the calls ahead) and its record: writes only, never past the budget.
      expect(all(record).length, all(record).join(',')).toBeGreaterThanOrEqual(1);
      expect(all(record).length, all(record).join(',')).toBeLessThanOrEqual(3);
      expect(new Set(all(record)), all(record).join(',')).toEqual(new Set(['TransactWriteItems']));
    }
  }, 60_000);

  it('what the gateway cannot serve is a 400 naming the field, with no admission and no record; what asks for plain text is served', async () => {
    const owner = await signUpUser('gwrefused');
    const key = await keyFor(owner, owner.personalOrgId);
    const chat = { model: 'local-chat', messages: [{ role: 'user', content: 'Count the waves.' }], max_tokens: 20 };
    const refusals: Array<[string, string, unknown]> = [
      ['/chat/completions', 'function_call', { name: 'get_weather' }],
      ['/chat/completions', 'function_call', 'required'],
      ['/chat/completions', 'modalities', ['text', 'audio']],
      ['/chat/completions', 'modalities', ['audio']],
      ['/chat/completions', 'audio', { voice: 'alloy', format: 'wav' }],
      ['/chat/completions', 'web_search_options', {}],
      ['/chat/completions', 'logit_bias', { '50256': -100 }],
      ['/chat/completions', 'top_logprobs', 2],
      ['/images/generations', 'stream', true],
    ];
    for (const [path, param, value] of refusals) {
      const base = path === '/chat/completions' ? chat : { model: 'local-image', prompt: 'a lighthouse' };
      const refused = await sent(path, key, { ...base, [param]: value });
      expect([refused.status, refused.body.error], `${param}: ${JSON.stringify(value)}`).toMatchObject([
        400,
        { type: 'invalid_request_error', param },
      ]);
      // Refused before the call is admitted: nothing held, nothing counted, nothing recorded.
      expect(all(refused.record), all(refused.record).join(',')).not.toContain('TransactWriteItems');
      expect(all(refused.record), all(refused.record).join(',')).not.toContain('PutItem');
    }
    // The same fields asking for nothing but a text answer change nothing, and hints we need not follow are taken.
    const served = await sent('/chat/completions', key, {
      ...chat,
      function_call: 'auto',
      modalities: ['text'],
      audio: null,
      web_search_options: null,
      logit_bias: {},
      top_logprobs: 0,
      prediction: { type: 'content', content: 'Waves.' },
      parallel_tool_calls: true,
    });
    expect(served.status, JSON.stringify(served.body)).toBe(200);
    expect(served.body.choices[0].message.content).toEqual(expect.any(String));
  });

  it('a warm model list, and a warm retrieve of one model, make two (the platform’s models and the organization’s own), and count a key’s `api` use', async () => {
    const owner = await signUpUser('gwmodels');
    const key = await keyFor(owner, owner.personalOrgId);
    await listModels(key);
    for (const warm of [await listModels(key), await recorded('/models/local-chat', key)]) {
      expect(warm.dynamoRequests, warm.dynamoRequests.join(',')).toEqual(['Query', 'Query']);
      // The call of an API client counts `api`, as on every route: the plan's one counter, one conditional update.
      expect(warm.limitRequests, warm.limitRequests.join(',')).toEqual(['UpdateItem']);
      expect(warm.authorizerRequests).toEqual([]);
    }
  });
});
