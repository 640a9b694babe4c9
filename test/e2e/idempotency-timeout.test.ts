import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dynamo } from '@platform/domain/shared/dynamo';
import { localLambdaContext } from '@platform/local/lambda-context';
import { api, createTeam, signUpUser } from '../helpers/api.ts';
import { routeEvent } from '../helpers/lambda-event.ts';

/**
 * A request that runs past its Lambda's time limit (middy answers a 500 just before it) while
 * its write is still on its way to DynamoDB. README: "While the first request runs, a retry is
 * a 409; a request that died mid-way frees its key after 30 s". The handler is invoked
 * in-process as Lambda invokes it (with a 1 s limit here; the deployed routes have 10 s), and
 * DynamoDB is made slow (1.5 s) for the creation's transaction only, as under throttling and SDK
 * retries. Its own file: the slowed client is this process's.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function eventFor(userId: string, orgId: string, key: string, body: unknown) {
  return routeEvent('POST /v1/orgs/{orgId}/api-clients', {
    path: `/v1/orgs/${orgId}/api-clients`,
    pathParameters: { orgId },
    headers: { 'idempotency-key': key },
    body,
    userId,
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Idempotency-Key and a request that runs out of time', () => {
  it('a retry while the timed-out first request’s creation is still in flight is a 409, and one API client is created', async () => {
    const owner = await signUpUser('idem-timeout');
    const { orgId } = await createTeam(owner);
    const { handler } = await import('../../functions/identity/create-api-client.ts');
    const invoke = (key: string, name: string, timeoutMs: number) =>
      handler(
        eventFor(owner.userId, orgId, key, { name, scopes: ['org:read'] }),
        localLambdaContext('createApiClient', 'us-east-1', timeoutMs),
      ) as Promise<{
        statusCode: number;
        body?: string;
      }>;
    // Warm the modules and the connections up: the timed requests below spend their time on the write only.
    expect((await invoke(`warm-${randomUUID()}`, 'warm', 60_000)).statusCode).toBe(201);

    const client = dynamo();
    const send = client.send.bind(client);
    const inFlight: Promise<unknown>[] = [];
    vi.spyOn(client, 'send').mockImplementation(((command: { constructor: { name: string } }, options?: never) => {
      if (command.constructor.name !== 'TransactWriteCommand') return send(command as never, options);
      const write = sleep(1_500).then(() => send(command as never, options));
      inFlight.push(write.catch(() => undefined));
      return write;
    }) as never);

    const key = `timeout-${randomUUID()}`;
    const first = await invoke(key, 'Timed', 1_000);
    expect(first.statusCode, first.body).toBe(500); // the time limit: its creation is still on its way
    const retry = await invoke(key, 'Timed', 60_000);
    await Promise.all(inFlight);

    const list = await api('GET', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken });
    const timed = list.body.items.filter((c: { name: string }) => c.name === 'Timed');
    expect({ retry: retry.statusCode, clients: timed.length }, retry.body).toEqual({ retry: 409, clients: 1 });
  });
});
