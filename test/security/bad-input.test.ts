import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { routes } from '@platform/api/manifest';
import type { RouteDefinition } from '@platform/http/route';
import { api, signUpUser, type SignedInUser, type ApiResponse } from '../helpers/api.ts';

/**
 * Bad input, route by route from the manifest: malformed bodies, wrong types, oversized
 * strings, bad ids and missing credentials always get a 4xx problem+json, never a 5xx.
 * Only invalid requests are sent, so no route actually acts.
 */
let user: SignedInUser;
beforeAll(async () => {
  user = await signUpUser('fuzz');
});

const BAD_IDS = [
  'x',
  '..%2F..%2Fetc%2Fpasswd',
  'org_' + 'z'.repeat(300),
  '%00',
  "1' OR '1'='1",
  'ORG_01JQ0000000000000000000000',
];
const WRONG_VALUES: unknown[] = [12345, -1, true, null, {}, [], ['a'], 'x'.repeat(100_000), { $ne: 1 }];
const MALFORMED = [
  '{',
  '[]',
  'null',
  '"text"',
  '{"a":',
  '{"__proto__":{"polluted":true}}',
  '\u0000',
  JSON.stringify({ a: { b: { c: { d: { e: {} } } } } }),
];

function fill(route: RouteDefinition, value: (name: string) => string) {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => value(name));
}

/** A path with syntactically valid ids, so the body is what gets judged. */
const validIds: Record<string, string> = {
  orgId: 'org_01jq0000000000000000000000',
  userId: '00000000-0000-4000-8000-000000000000',
  invitationId: 'inv_01jq0000000000000000000000',
  roleId: 'role_01jq0000000000000000000000',
  clientId: 'ak_01jq0000000000000000000000',
  sessionId: 'ses_01jq0000000000000000000000',
  slug: 'openai',
  modelId: 'nova-micro',
  credentialId: 'pcr_01jq0000000000000000000000',
  ruleId: 'rtr_01jq0000000000000000000000',
  configKey: 'routing_agent',
};

function expectProblem(res: ApiResponse, what: string) {
  expect(res.status, `${what} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what} must not be a server error`).toBeLessThan(500);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status: res.status, title: expect.any(String), type: expect.any(String) });
  expect(JSON.stringify(res.body)).not.toMatch(/at \w+ \(|node_modules|\.ts:\d+/); // no stack traces
}

/** The AI gateway answers in OpenAI's error shape, so OpenAI clients understand it. */
function expectOpenAiError(res: ApiResponse, what: string) {
  expect(res.status, `${what} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what} must not be a server error`).toBeLessThan(500);
  expect(res.headers.get('content-type')).toContain('application/json');
  expect(res.body).toMatchObject({ error: { message: expect.any(String), type: expect.any(String) } });
  expect(JSON.stringify(res.body)).not.toMatch(/at \w+ \(|node_modules|\.ts:\d+/);
}

function bodyFields(route: RouteDefinition): string[] {
  if (!route.schemas.body) return [];
  const schema = z.toJSONSchema(route.schemas.body, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, unknown>;
  };
  return Object.keys(schema.properties ?? {});
}

const served = routes;

describe('bad input never reaches a 5xx, across the route manifest', () => {
  for (const route of served) {
    const expectClientError = route.surface === 'gateway' ? expectOpenAiError : expectProblem;
    const credentials = () => (route.auth === 'public' ? {} : { token: user.accessToken });
    const label = `${route.method} ${route.path}`;

    if (route.auth !== 'public') {
      it(`${label}: no credentials, or a forged token → 401`, async () => {
        const path = fill(route, (n) => validIds[n]!);
        expectClientError(await api(route.method, path), `${label} without credentials`);
        const forged = await api(route.method, path, { token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' });
        expectClientError(forged, `${label} with a forged token`);
        expect(forged.status).toBe(401);
      });
    }

    if (route.path.includes('{')) {
      it(`${label}: malformed ids → 4xx`, async () => {
        for (const bad of BAD_IDS) {
          const path = fill(route, () => bad);
          expectClientError(await api(route.method, path, credentials()), `${label} with id ${bad.slice(0, 40)}`);
        }
      });
    }

    if (route.schemas.body) {
      it(`${label}: malformed JSON, wrong types and oversized strings → 4xx`, async () => {
        const path = fill(route, (n) => validIds[n]!);
        for (const raw of MALFORMED)
          expectClientError(
            await api(route.method, path, { ...credentials(), rawBody: raw, headers: { 'content-type': 'application/json' } }),
            `${label} body ${raw.slice(0, 30)}`,
          );
        expectClientError(
          await api(route.method, path, {
            ...credentials(),
            rawBody: 'a=b',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
          `${label} form body`,
        );
        expectClientError(
          await api(route.method, path, { ...credentials(), rawBody: '{"pad":"' + 'x'.repeat(300_000) + '"}' }),
          `${label} huge body`,
        );
        for (const field of bodyFields(route))
          for (const value of WRONG_VALUES) {
            if (route.schemas.body!.safeParse({ [field]: value }).success) continue; // a valid value, not bad input
            const res = await api(route.method, path, { ...credentials(), body: { [field]: value } });
            expectClientError(res, `${label} ${field}=${JSON.stringify(value).slice(0, 30)}`);
          }
      });
    }

    if (route.schemas.query) {
      it(`${label}: bad query parameters → 4xx`, async () => {
        // The fuzz user's own organization: the request gets past authorization to the query.
        const path = fill(route, (n) => (n === 'orgId' ? user.personalOrgId : validIds[n]!));
        for (const query of [
          'limit=0',
          'cursor=garbage',
          `cursor=${Buffer.from(JSON.stringify({ pk: '$platform#orgid_org_x', sk: 'x' })).toString('base64url')}`,
          'limit=1000',
          'limit=abc',
          `cursor=${'x'.repeat(5000)}`,
          'status=nope',
          `to=${'x'.repeat(400)}`,
        ]) {
          const res = await api(route.method, `${path}?${query}`, credentials());
          if (res.status < 400) continue; // a parameter this route does not take is ignored
          expectClientError(res, `${label}?${query.slice(0, 30)}`);
        }
      });
    }
  }

  it('answers unknown paths and methods with problem+json', async () => {
    expectProblem(await api('GET', '/v1/nope'), 'unknown path');
    expect((await api('PUT', '/v1/me', { token: user.accessToken })).status).toBe(405);
  });

  it('answers its own 404, 405, 413 and 401 with CORS headers, a 405 with Allow, each problem with its instance', async () => {
    const origin = { origin: 'https://app.example.test' };
    const answers = [
      [await api('GET', '/v1/nope', { headers: origin }), 404, '/v1/nope'],
      [await api('PUT', '/v1/me', { headers: origin }), 405, '/v1/me'],
      [await api('HEAD', '/health', { headers: origin }), 405, '/health'],
      [await api('POST', '/v1/orgs', { headers: origin, rawBody: 'x'.repeat(1024 * 1024 + 1) }), 413, '/v1/orgs'],
      [await api('GET', '/v1/me', { headers: origin, token: 'nope' }), 401, '/v1/me'],
    ] as const;
    for (const [res, status, instance] of answers) {
      expect(res.status).toBe(status);
      expect(res.headers.get('access-control-allow-origin'), `${status} CORS`).toBe('*');
      if (status !== 405 || instance !== '/health')
        expect(res.body).toMatchObject({ status, instance, detail: expect.any(String) });
    }
    expect(answers[1][0].headers.get('allow')).toMatch(/\bGET\b.*\bPATCH\b/);
    expect(answers[2][0].headers.get('allow')).toBe('GET');
  });
});
