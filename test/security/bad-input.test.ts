import { beforeAll, describe, expect, inject, it } from 'vitest';
import * as z from 'zod';
import { routes } from '@platform/api/manifest';
import { signStripePayload } from '@platform/domain/billing/stripe/signature';
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

/** Signed Stripe events, well formed, whose metadata names something that is no organization of ours. */
function foreignStripeEvents() {
  const at = Date.now();
  const huge = 'x'.repeat(3000);
  // A refund of a payment not recorded is answered 409 while Stripe retries (three days), so it comes older.
  const objects: Array<[string, object, number?]> = [
    [
      'payment_intent.succeeded',
      { id: `pi_bad_${at}`, amount: 1, currency: 'usd', metadata: { orgId: huge, kind: 'credit-pack', packId: 'credits-1000' } },
    ],
    [
      'checkout.session.completed',
      { id: 'cs_bad', mode: 'subscription', subscription: 'sub_bad', metadata: { orgId: huge, kind: 'plan', planId: 'pro' } },
    ],
    [
      'invoice.paid',
      {
        id: 'in_bad',
        subscription: 'sub_bad',
        currency: 'usd',
        subscription_details: { metadata: { orgId: huge, planId: 'pro' } },
      },
    ],
    [
      'charge.refunded',
      { id: 'ch_bad', payment_intent: `pi_${'x'.repeat(252)}`, amount: 1, amount_refunded: 1 },
      at - 4 * 86_400_000,
    ],
    ['customer.subscription.updated', { id: 'sub_bad', status: 'active', metadata: { orgId: 'org_../../etc' } }],
    ['customer.subscription.deleted', { id: 'sub_bad', status: 'canceled', metadata: { orgId: '𝔘'.repeat(600) } }],
  ];
  return objects.map(([type, object, created = at], i) =>
    JSON.stringify({ id: `evt_bad_input_${at}_${i}`, type, created: Math.floor(created / 1000), data: { object } }),
  );
}

/**
 * Routes that read their body raw (a provider's signed webhook: the signature covers the exact
 * bytes), so they have no body schema for the cases above to come from. Each says how a body is
 * signed, so that a signed body that is not what the route takes is judged too, past the signature,
 * and which signed bodies are well formed but not for us: a provider retries an error for days,
 * so those are acknowledged (200), never a 5xx.
 */
const RAW_BODY: Record<string, { header: string; sign: (raw: string) => string; foreign: () => string[] }> = {
  stripeWebhook: {
    header: 'stripe-signature',
    sign: (raw) => signStripePayload(raw, inject('cloud').env.STRIPE_WEBHOOK_SECRET!),
    foreign: foreignStripeEvents,
  },
};
/** A public write with no body schema reads its body itself. */
const readsRawBody = (route: RouteDefinition) => route.auth === 'public' && route.method !== 'GET' && !route.schemas.body;

const now = () => Math.floor(Date.now() / 1000);
const BAD_SIGNATURES = [
  'garbage',
  '',
  't=,v1=',
  't=abc,v1=zz',
  `t=${'9'.repeat(40)},v1=${'a'.repeat(64)}`,
  `v1=${'a'.repeat(64)}`,
  `t=${now()}`,
  `t=${now()},v1=${'g'.repeat(64)}`,
  `t=${now()},v1=${'a'.repeat(63)}`,
  `t=${now()},${Array.from({ length: 100 }, () => `v1=${'a'.repeat(64)}`).join(',')}`,
];
/** Signed, so they pass the signature: none is an event the route takes. */
const NOT_AN_EVENT = [
  ...MALFORMED,
  '',
  'not json',
  '{"id":"evt_1"}',
  JSON.stringify({ id: 'evt_1', type: 'invoice.paid', created: 'yesterday', data: { object: {} } }),
  JSON.stringify({ id: 'x'.repeat(300), type: 'invoice.paid', created: 1, data: { object: {} } }),
  JSON.stringify({ id: 'evt_1', type: 'invoice.paid', created: 1, data: { object: { id: 'in_1', currency: 5 } } }),
  JSON.stringify({ id: 'evt_1', type: 'payment_intent.succeeded', created: 1, data: { object: { id: ['pi'] } } }),
  JSON.stringify({ id: 'evt_1', type: 'charge.refunded', created: 1, data: { object: { id: 'ch_1', amount_refunded: 1.5 } } }),
  JSON.stringify({ id: 'evt_1', type: 'x'.repeat(1000), created: 1, data: { object: {} } }),
  '{"pad":"' + 'x'.repeat(300_000) + '"}',
];

/** Which of the cases below a route gets: every route that takes any input gets some. */
function casesOf(route: RouteDefinition) {
  return {
    credentials: route.auth !== 'public',
    ids: route.path.includes('{'),
    body: !!route.schemas.body,
    rawBody: readsRawBody(route),
    query: !!route.schemas.query,
  };
}

const served = routes;

describe('bad input never reaches a 5xx, across the route manifest', () => {
  for (const route of served) {
    const expectClientError = route.surface === 'gateway' ? expectOpenAiError : expectProblem;
    const credentials = () => (route.auth === 'public' ? {} : { token: user.accessToken });
    const label = `${route.method} ${route.path}`;

    const cases = casesOf(route);

    if (cases.credentials) {
      it(`${label}: no credentials, or a forged token → 401`, async () => {
        const path = fill(route, (n) => validIds[n]!);
        const none = await api(route.method, path);
        expectClientError(none, `${label} without credentials`);
        expect(none.status, `${label} without credentials`).toBe(401);
        const forged = await api(route.method, path, { token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' });
        expectClientError(forged, `${label} with a forged token`);
        expect(forged.status).toBe(401);
      });
    }

    if (cases.ids) {
      it(`${label}: malformed ids → 4xx`, async () => {
        for (const bad of BAD_IDS) {
          const path = fill(route, () => bad);
          expectClientError(await api(route.method, path, credentials()), `${label} with id ${bad.slice(0, 40)}`);
        }
      });
    }

    if (cases.body) {
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

    if (cases.rawBody) {
      it(`${label}: a raw body with no signature, a garbage signature, not JSON, not an event, or oversized → 4xx; not ours → 200`, async () => {
        const raw = RAW_BODY[route.id]!;
        const path = fill(route, (n) => validIds[n]!);
        const send = (body: string, signature?: string, type = 'application/json') =>
          api(route.method, path, {
            rawBody: body,
            headers: { 'content-type': type, ...(signature !== undefined ? { [raw.header]: signature } : {}) },
          });
        const event = JSON.stringify({ id: 'evt_bad_input', type: 'customer.created', created: now(), data: { object: {} } });
        expectClientError(await send(event), `${label} unsigned`);
        for (const body of MALFORMED) expectClientError(await send(body), `${label} unsigned body ${body.slice(0, 30)}`);
        expectClientError(await send('a=b', undefined, 'application/x-www-form-urlencoded'), `${label} unsigned form body`);
        for (const signature of BAD_SIGNATURES)
          expectClientError(await send(event, signature), `${label} signature ${signature.slice(0, 40)}`);
        // Signed for another body: the signature covers the exact bytes.
        expectClientError(await send(event.replace('customer', 'Customer'), raw.sign(event)), `${label} body changed`);
        for (const body of NOT_AN_EVENT)
          expectClientError(await send(body, raw.sign(body)), `${label} signed body ${body.slice(0, 40)}`);
        for (const body of raw.foreign()) {
          const res = await send(body, raw.sign(body));
          expect(res.status, `${label} signed, not ours: ${body.slice(0, 80)} → ${res.status}`).toBe(200);
        }
        const oversized = 'x'.repeat(1024 * 1024 + 1);
        const tooBig = await send(oversized, raw.sign(oversized));
        expectClientError(tooBig, `${label} oversized body`);
        expect(tooBig.status).toBe(413);
      });
    }

    if (cases.query) {
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

  it('gives every route that takes input its cases, a raw-body route (a webhook) included', () => {
    // Only what takes no input at all gets none: a public GET with no parameters.
    const uncovered = served
      .filter((route) => !Object.values(casesOf(route)).some(Boolean))
      .filter((route) => route.method !== 'GET' || route.path.includes('{') || route.schemas.query)
      .map((route) => route.id);
    expect(uncovered).toEqual([]);
    const rawBodyRoutes = served.filter(readsRawBody).map((route) => route.id);
    expect(rawBodyRoutes).toContain('stripeWebhook');
    // A new raw-body route says how it is signed here, or its cases cannot run.
    expect(rawBodyRoutes.filter((id) => !RAW_BODY[id])).toEqual([]);
  });

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
      [await api('POST', '/v1/orgs', { headers: origin, rawBody: 'x'.repeat(6 * 1024 * 1024 + 1) }), 413, '/v1/orgs'],
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
