import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteDefinition } from '@platform/http/route';
import { startLocalServer } from './server.ts';
import { held } from '../test-fixtures/functions/held.ts';

const route: RouteDefinition = {
  id: 'held',
  method: 'GET',
  path: '/held',
  handler: 'held',
  auth: 'public',
  summary: 'Answers, then works on until released',
  tag: 'test',
  schemas: {},
};

/** A route whose function cannot be loaded: the server's own failure. */
const broken: RouteDefinition = { ...route, id: 'broken', path: '/broken', handler: 'no-such-function' };

let server: Awaited<ReturnType<typeof startLocalServer>>;
beforeAll(async () => {
  server = await startLocalServer({
    routes: [route, broken],
    functionsDir: join(import.meta.dirname, '../test-fixtures/functions'),
    port: 0,
    cognito: { userPoolId: 'us-east-1_local', clientId: 'local', jwks: { keys: [] } },
    concurrency: 2,
  });
});
afterAll(() => server?.close());

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
};
const get = async (id: string) => (await fetch(`${server.url}/held?id=${id}`)).text();
const release = (id: string) => held.gates.get(id)!();

describe('the local server', () => {
  it('runs at most `concurrency` invocations of a function, the work after the answer included; the next waits for a slot', async () => {
    // Two invocations answer and work on; a third is not started while they do.
    expect(await get('a')).toBe('answered a');
    expect(await get('b')).toBe('answered b');
    let third: string | undefined;
    const c = get('c').then((text) => (third = text));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(held.started).toEqual(['a', 'b']);
    expect(third).toBeUndefined();

    // The first ends: its slot goes to the waiting one.
    release('a');
    await c;
    expect(third).toBe('answered c');
    expect(held.started).toEqual(['a', 'b', 'c']);

    let settled = false;
    const settling = server.settled().then(() => (settled = true));
    release('b');
    await until(() => held.gates.has('c'));
    expect(settled).toBe(false);
    release('c');
    await settling;
  });

  it('answers its own failure as a 500 problem that a browser can read (CORS headers)', async () => {
    const res = await fetch(`${server.url}/broken`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toMatchObject({ status: 500, instance: '/broken' });
  });
});
