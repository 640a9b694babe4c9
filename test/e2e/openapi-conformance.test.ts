import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { routes } from '@platform/api/manifest';
import { EXPOSED_HEADERS } from '@platform/http/middleware/cors';
import {
  api,
  createTeam,
  PASSWORD,
  signUpPlatformAdmin,
  signUpUser,
  uniqueEmail,
  type ApiResponse,
  type CallOptions,
} from '../helpers/api.ts';
import { gateway, keyFor, usageOf } from '../helpers/gateway.ts';

/**
 * Real answers, successes and failures, against the served /openapi.json: each status must be
 * documented for its operation, with the media type it came in, and each body must match. A
 * success is checked with the route's own response schema (what the document is generated
 * from), a failure with the shape the document names (problem+json, or OpenAI's on the gateway).
 * Strictly: a field the schema does not name fails, as the document says of it
 * (`additionalProperties: false`), though zod's parsing would only drop it.
 */
let doc: any;

beforeAll(async () => {
  doc = (await api('GET', '/openapi.json')).body;
});

const problem = z.object({
  type: z.url(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
const openAiError = z.object({
  error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }),
});
const ERROR_SCHEMAS: Record<string, z.ZodType> = {
  '#/components/schemas/Problem': problem,
  '#/components/schemas/OpenAiError': openAiError,
};

/** The fields of `sent` that parsing dropped, as paths: those its schema does not name (zod strips them). */
function undocumented(sent: unknown, parsed: unknown, path = ''): string[] {
  if (Array.isArray(sent))
    return Array.isArray(parsed) ? sent.flatMap((value, i) => undocumented(value, parsed[i], `${path}[${i}]`)) : [];
  if (!sent || typeof sent !== 'object' || !parsed || typeof parsed !== 'object') return [];
  return Object.entries(sent).flatMap(([key, value]) => {
    const at = path ? `${path}.${key}` : key;
    return key in parsed ? undocumented(value, (parsed as Record<string, unknown>)[key], at) : [at];
  });
}

/** A streamed chat completion: `data:` events, each a chunk (or an error), ending with `[DONE]`. */
function streamProblems(what: string, body: string): string[] {
  const events = body.split('\n\n').filter(Boolean);
  const bad = events.filter((e) => !e.startsWith('data: '));
  if (bad.length) return [`${what}: not server-sent data events: ${bad[0]!.slice(0, 200)}`];
  const data = events.map((e) => e.slice('data: '.length));
  if (data.at(-1) !== '[DONE]') return [`${what}: the stream does not end with [DONE]`];
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
  const notChunks = chunks.filter((c) => c.object !== 'chat.completion.chunk' && !c.error);
  return notChunks.length ? [`${what}: events that are no chunk: ${JSON.stringify(notChunks[0]).slice(0, 200)}`] : [];
}

/** What is wrong with `res` as an answer of the documented operation `method template` (nothing: []). */
function conformance(method: string, template: string, res: ApiResponse): string[] {
  const what = `${method} ${template} → ${res.status}`;
  const route = routes.find((r) => r.method === method && r.path === template);
  const documented = doc.paths[template]?.[method.toLowerCase()]?.responses;
  if (!route || !documented) return [`${method} ${template} is not documented`];
  const response = documented[String(res.status)];
  if (!response) return [`${what} is not documented (documented: ${Object.keys(documented).join(',')})`];
  if (!response.content) return res.body === '' ? [] : [`${what} has a body, documented without one`];
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
  const media = response.content[type];
  if (!media) return [`${what} answered ${type}, documented ${Object.keys(response.content).join(',')}`];
  if (type === 'text/event-stream') return streamProblems(what, res.body);
  if (!/json/.test(type)) return []; // a raw answer (CSV, HTML): its media type is what is documented
  const schema = res.status < 400 ? route.schemas.response : ERROR_SCHEMAS[media.schema.$ref];
  if (!schema) return [];
  const parsed = schema.safeParse(res.body);
  if (!parsed.success) return [`${what}: the body does not match: ${parsed.error.message.slice(0, 500)}`];
  const unknown = undocumented(res.body, parsed.data);
  if (unknown.length) return [`${what}: fields the document does not name: ${unknown.slice(0, 10).join(', ')}`];
  if (res.status >= 400 && type === 'application/problem+json' && res.body.status !== res.status)
    return [`${what}: the problem says status ${res.body.status}`];
  return [];
}

/**
 * The headers a client may read (those CORS exposes) that `res` carries but its documented
 * response does not declare (nothing: []).
 */
function undeclaredHeaders(method: string, template: string, res: ApiResponse): string[] {
  const response = doc.paths[template]?.[method.toLowerCase()]?.responses?.[String(res.status)];
  const declared = Object.keys(response?.headers ?? {}).map((h) => h.toLowerCase());
  return EXPOSED_HEADERS.filter((h) => res.headers.has(h) && !declared.includes(h)).map(
    (h) => `${method} ${template} → ${res.status} sends ${h}, undeclared`,
  );
}

/** The header names the documented response of `route` with `status` declares, in lower case. */
const declaredOn = (route: { path: string; method: string }, status: number | string) =>
  Object.keys(doc.paths[route.path][route.method.toLowerCase()].responses[String(status)]?.headers ?? {}).map((h) =>
    h.toLowerCase(),
  );

const deployed = () => routes.filter((r) => !r.localOnly);

/** Calls `path` (an instance of `template`) and collects what does not conform. */
const checker = (problems: string[], defaults: CallOptions = {}) => {
  return async (method: string, template: string, path: string, options: CallOptions = {}) => {
    const res = await api(method, path, { ...defaults, ...options });
    problems.push(...conformance(method, template, res));
    return res;
  };
};

describe.concurrent('answers that the OpenAPI document lists', () => {
  it('public auth routes: what Cognito refuses (wrong password 401, unconfirmed account 403, a bad refresh token)', async () => {
    const user = await signUpUser('oac-auth');
    const problems: string[] = [];
    const check = checker(problems);
    const wrong = await check('POST', '/v1/auth/sign-in', '/v1/auth/sign-in', {
      body: { email: user.email, password: 'Wr0ng-Password-xx!' },
    });
    expect(wrong.status).toBe(401);
    const email = uniqueEmail('oac-unconfirmed');
    expect((await api('POST', '/v1/auth/sign-up', { body: { email, password: PASSWORD } })).status).toBe(201);
    expect((await check('POST', '/v1/auth/sign-in', '/v1/auth/sign-in', { body: { email, password: PASSWORD } })).status).toBe(
      403,
    );
    await check('POST', '/v1/auth/refresh', '/v1/auth/refresh', {
      body: { refreshToken: 'garbage-token', sessionId: user.sessionId },
    });
    await check('POST', '/v1/auth/sign-up', '/v1/auth/sign-up', { body: { email: user.email, password: PASSWORD } });
    expect(problems).toEqual([]);
    // Cognito's throttling is not reproducible here: documented on every route that calls Cognito.
    for (const path of ['/v1/auth/sign-in', '/v1/auth/sign-up', '/v1/auth/forgot-password', '/v1/auth/refresh'])
      expect(doc.paths[path].post.responses['429'].headers['Retry-After'], path).toBeDefined();
  });

  it('a declared charset other than UTF-8 is a documented 415, and every route with a body documents it', async () => {
    const user = await signUpUser('oac-charset');
    const res = await api('PATCH', '/v1/me', {
      token: user.accessToken,
      rawBody: JSON.stringify({ fullName: 'Ada' }),
      headers: { 'content-type': 'application/json; charset=iso-8859-1' },
    });
    expect(res.status).toBe(415);
    expect(conformance('PATCH', '/v1/me', res)).toEqual([]);
    for (const route of routes.filter((r) => r.schemas.body && !r.localOnly)) {
      const responses = doc.paths[route.path][route.method.toLowerCase()].responses;
      expect(Object.keys(responses), route.id).toEqual(expect.arrayContaining(['400', '413', '415']));
    }
  });

  it('GET /v1/me after the account was deleted is a documented 404', async () => {
    const user = await signUpUser('oac-deleted');
    expect((await api('DELETE', '/v1/me', { token: user.accessToken })).status).toBe(204);
    const res = await api('GET', '/v1/me', { token: user.accessToken });
    expect(res.status).toBe(404);
    expect(conformance('GET', '/v1/me', res)).toEqual([]);
  });

  it('an expired invitation is a documented 410 on accept and on decline', async () => {
    const { db } = await import('@platform/domain/identity/entities');
    const owner = await signUpUser('oac-exp');
    const invitee = await signUpUser('oac-exp-i');
    const { orgId } = await createTeam(owner);
    const problems: string[] = [];
    for (const answer of ['accept', 'decline']) {
      const inv = await api('POST', `/v1/orgs/${orgId}/invitations`, {
        token: owner.accessToken,
        body: { email: invitee.email, role: 'editor' },
      });
      await db.invitation
        .patch({ invitationId: inv.body.invitationId })
        .set({ expiresAt: new Date(Date.now() - 60_000).toISOString() })
        .go();
      const res = await api('POST', `/v1/invitations/${inv.body.invitationId}/${answer}`, { token: invitee.accessToken });
      expect(res.status).toBe(410);
      problems.push(...conformance('POST', `/v1/invitations/{invitationId}/${answer}`, res));
    }
    expect(problems).toEqual([]);
  });

  it('a subscription change Stripe refuses is a documented 502', async () => {
    const { commitChange, getSubscription } = await import('@platform/domain/billing/subscription-store');
    const owner = await signUpUser('oac-stripe');
    const { orgId } = await createTeam(owner);
    // On Stripe, as a checkout would leave it, under an id the local Stripe does not know: it refuses.
    const prev = await getSubscription(orgId);
    const next = { ...prev, planId: 'team', paymentProvider: 'Stripe' as const, providerSubscriptionId: `sub_nowhere_${orgId}` };
    expect((await commitChange({ prev, next })).ok).toBe(true);
    const res = await api('POST', `/v1/orgs/${orgId}/subscription/cancel`, { token: owner.accessToken });
    expect(res.status).toBe(502);
    expect(conformance('POST', '/v1/orgs/{orgId}/subscription/cancel', res)).toEqual([]);
    for (const path of ['/v1/orgs/{orgId}/subscription/resume', '/v1/orgs/{orgId}/checkout'])
      expect(doc.paths[path].post.responses, path).toHaveProperty('502');
    expect(doc.paths['/v1/orgs/{orgId}/subscription'].put.responses).toHaveProperty('502');
  });

  it('the AI gateway: no credentials 401 and an unknown model 404, in OpenAI’s shape', async () => {
    const owner = await signUpUser('oac-gw');
    const problems: string[] = [];
    const check = checker(problems);
    const body = { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] };
    const template = '/openai/v1/chat/completions';
    expect((await check('POST', template, template, { body })).status).toBe(401);
    expect((await check('POST', template, template, { token: owner.accessToken, body })).status).toBe(404);
    await check('GET', '/openai/v1/models', '/openai/v1/models', { token: owner.accessToken });
    await check('GET', '/openai/v1/models/{modelId}', '/openai/v1/models/local-chat', { token: owner.accessToken });
    expect(problems).toEqual([]);
  });

  it('the AI gateway’s successes: a chat completion whole and streamed, embeddings, an image, every field documented', async () => {
    const owner = await signUpUser('oac-gw-ok');
    const problems: string[] = [];
    const check = checker(problems, { token: owner.accessToken });
    const chat = '/openai/v1/chat/completions';
    const messages = [{ role: 'user', content: 'Say something about lighthouses.' }];
    expect((await check('POST', chat, chat, { body: { model: 'local-chat', messages, max_tokens: 50 } })).status).toBe(200);
    const streamed = await check('POST', chat, chat, { body: { model: 'local-chat', messages, max_tokens: 50, stream: true } });
    expect([streamed.status, streamed.headers.get('content-type')]).toEqual([200, expect.stringContaining('text/event-stream')]);
    const embeddings = '/openai/v1/embeddings';
    expect((await check('POST', embeddings, embeddings, { body: { model: 'local-embed', input: ['a', 'b'] } })).status).toBe(200);
    const images = '/openai/v1/images/generations';
    expect((await check('POST', images, images, { body: { model: 'local-image', prompt: 'a lighthouse' } })).status).toBe(200);
    expect(problems).toEqual([]);
    // The stream's media type is described with its events.
    const described = doc.paths[chat].post.responses['200'].content['text/event-stream'].schema;
    expect(described).toMatchObject({ type: 'string', description: expect.stringContaining('data: [DONE]') });
  });

  it('success bodies and failures of a sample of identity, billing and hub routes', async () => {
    const owner = await signUpUser('oac-owner');
    const member = await signUpUser('oac-member');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'editor' }]);
    const problems: string[] = [];
    const check = checker(problems, { token: owner.accessToken });
    await check('GET', '/v1/me', '/v1/me');
    await check('PATCH', '/v1/me', '/v1/me', { body: { fullName: 'Owner Person' } });
    await check('GET', '/v1/me/orgs', '/v1/me/orgs');
    await check('GET', '/v1/orgs', '/v1/orgs');
    await check('GET', '/v1/me/sessions', '/v1/me/sessions');
    await check('GET', '/v1/me/invitations', '/v1/me/invitations', { token: member.accessToken });
    await check('GET', '/v1/orgs/{orgId}', `/v1/orgs/${orgId}`);
    await check('PATCH', '/v1/orgs/{orgId}', `/v1/orgs/${orgId}`, { body: { name: 'Renamed team' } });
    await check('GET', '/v1/orgs/{orgId}/members', `/v1/orgs/${orgId}/members`);
    await check('PATCH', '/v1/orgs/{orgId}/members/{userId}', `/v1/orgs/${orgId}/members/${member.userId}`, {
      body: { role: 'viewer' },
    });
    await check('POST', '/v1/orgs/{orgId}/invitations', `/v1/orgs/${orgId}/invitations`, {
      body: { email: uniqueEmail('oac-inv'), role: 'viewer' },
    });
    await check('GET', '/v1/orgs/{orgId}/invitations', `/v1/orgs/${orgId}/invitations`);
    const role = await check('POST', '/v1/orgs/{orgId}/roles', `/v1/orgs/${orgId}/roles`, {
      body: { name: 'Reader', permissions: ['org:read'] },
    });
    await check('GET', '/v1/orgs/{orgId}/roles', `/v1/orgs/${orgId}/roles`);
    await check('PATCH', '/v1/orgs/{orgId}/roles/{roleId}', `/v1/orgs/${orgId}/roles/${role.body.roleId}`, {
      body: { permissions: ['org:read', 'members:read'] },
    });
    const client = await check('POST', '/v1/orgs/{orgId}/api-clients', `/v1/orgs/${orgId}/api-clients`, {
      body: { name: 'Bot', scopes: ['org:read'] },
    });
    await check('GET', '/v1/orgs/{orgId}/api-clients', `/v1/orgs/${orgId}/api-clients`);
    await check('GET', '/v1/orgs/{orgId}', `/v1/orgs/${orgId}`, { token: undefined, apiKey: client.body.key });
    await check('GET', '/v1/orgs/{orgId}/audit-events', `/v1/orgs/${orgId}/audit-events?action=member.role-changed&limit=2`);
    await check('GET', '/v1/orgs/{orgId}/credits', `/v1/orgs/${orgId}/credits`);
    await check('GET', '/v1/orgs/{orgId}/credits/transactions', `/v1/orgs/${orgId}/credits/transactions`);
    await check('GET', '/v1/orgs/{orgId}/subscription', `/v1/orgs/${orgId}/subscription`);
    await check('GET', '/v1/orgs/{orgId}/limits', `/v1/orgs/${orgId}/limits`);
    await check('GET', '/v1/orgs/{orgId}/usage', `/v1/orgs/${orgId}/usage`);
    await check('GET', '/v1/orgs/{orgId}/usage/daily', `/v1/orgs/${orgId}/usage/daily`);
    await check('GET', '/v1/orgs/{orgId}/usage/export.csv', `/v1/orgs/${orgId}/usage/export.csv`);
    await check('GET', '/v1/orgs/{orgId}/payments', `/v1/orgs/${orgId}/payments`);
    await check('GET', '/v1/plans', '/v1/plans', { token: undefined });
    await check('GET', '/v1/credit-packs', '/v1/credit-packs', { token: undefined });
    await check('GET', '/v1/models', '/v1/models');
    await check('GET', '/v1/providers', '/v1/providers');
    await check('GET', '/v1/me/notifications', '/v1/me/notifications');
    await check('GET', '/v1/me/favorite-models', '/v1/me/favorite-models');
    await check('GET', '/v1/orgs/{orgId}/models', `/v1/orgs/${orgId}/models`);
    await check('GET', '/v1/orgs/{orgId}/routing-rules', `/v1/orgs/${orgId}/routing-rules`);
    await check('GET', '/v1/orgs/{orgId}/provider-credentials', `/v1/orgs/${orgId}/provider-credentials`);
    await check('GET', '/health', '/health', { token: undefined });
    // Failures: not a member 404, no permission 403, a bad cursor 400, a refused rule 422, no credentials 401.
    const stranger = await signUpUser('oac-stranger');
    await check('GET', '/v1/orgs/{orgId}', `/v1/orgs/${orgId}`, { token: stranger.accessToken });
    await check('GET', '/v1/orgs/{orgId}/audit-events', `/v1/orgs/${orgId}/audit-events`, { token: member.accessToken });
    await check('GET', '/v1/orgs/{orgId}/members', `/v1/orgs/${orgId}/members?cursor=garbage`);
    await check('POST', '/v1/orgs/{orgId}/transfer-ownership', `/v1/orgs/${orgId}/transfer-ownership`, {
      body: { userId: stranger.userId },
    });
    await check('GET', '/v1/me', '/v1/me', { token: undefined });
    await check('DELETE', '/v1/orgs/{orgId}/api-clients/{clientId}', `/v1/orgs/${orgId}/api-clients/${client.body.clientId}`);
    await check('DELETE', '/v1/me/orgs/{orgId}', `/v1/me/orgs/${orgId}`);
    expect(problems).toEqual([]);
  });

  it('admin routes, and a manual payment recorded again (200 beside 201)', async () => {
    const admin = await signUpPlatformAdmin('oac-admin');
    const owner = await signUpUser('oac-paid');
    const { orgId } = await createTeam(owner);
    const problems: string[] = [];
    const check = checker(problems, { token: admin.accessToken });
    await check('GET', '/v1/admin/audit-events', '/v1/admin/audit-events');
    await check('GET', '/v1/admin/config', '/v1/admin/config');
    await check('GET', '/v1/admin/routing-rules', '/v1/admin/routing-rules');
    await check('GET', '/v1/admin/provider-credentials', '/v1/admin/provider-credentials');
    await check(
      'POST',
      '/v1/admin/orgs/{orgId}/credits/adjustments',
      `/v1/admin/orgs/${admin.personalOrgId}/credits/adjustments`,
      {
        body: { amount: 5, reason: 'conformance' },
      },
    );
    const body = {
      provider: 'PayPal',
      reference: `CAPTURE-OAC-${orgId.slice(-8)}`,
      amountMinor: 1000,
      currency: 'USD',
      packId: 'credits-1000',
    };
    const template = '/v1/admin/orgs/{orgId}/payments';
    expect((await check('POST', template, `/v1/admin/orgs/${orgId}/payments`, { body })).status).toBe(201);
    expect((await check('POST', template, `/v1/admin/orgs/${orgId}/payments`, { body })).status).toBe(200);
    expect((await check('GET', '/v1/admin/config', '/v1/admin/config', { token: owner.accessToken })).status).toBe(403);
    expect(problems).toEqual([]);
  });
});

describe.concurrent('the statuses and headers every route of a kind answers, as the document declares them', () => {
  const BIG = JSON.stringify({ pad: 'x'.repeat(300 * 1024) }); // past the default 256 KiB, under the 6 MiB platform cap

  it('a body past the limit is a documented 413 on every route, with a body schema or not; 415 only where a body is taken', async () => {
    const owner = await signUpUser('oac-413');
    const { orgId } = await createTeam(owner);
    const rawBody = { rawBody: BIG, headers: { 'content-type': 'application/json' } };
    const problems: string[] = [];
    const check = checker(problems, { token: owner.accessToken, ...rawBody });
    expect((await check('POST', '/v1/me/notifications/read-all', '/v1/me/notifications/read-all')).status).toBe(413);
    expect((await check('POST', '/v1/orgs/{orgId}/subscription/cancel', `/v1/orgs/${orgId}/subscription/cancel`)).status).toBe(
      413,
    );
    expect((await check('POST', '/v1/webhooks/stripe', '/v1/webhooks/stripe', { token: undefined })).status).toBe(413);
    expect(problems).toEqual([]);
    for (const route of deployed()) {
      const statuses = Object.keys(doc.paths[route.path][route.method.toLowerCase()].responses);
      expect(statuses, route.id).toContain('413');
      if (!route.schemas.body) expect(statuses, route.id).not.toContain('415');
    }
  });

  it('a refusal of the limits is a documented 429 whose X-RateLimit-* headers are declared, on every limited route', async () => {
    const [owner, admin] = await Promise.all([signUpUser('oac-rl'), signUpPlatformAdmin('oac-rl-a')]);
    const { orgId } = await createTeam(owner);
    const created = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      token: owner.accessToken,
      body: { name: 'Limited', scopes: ['org:read', 'gateway:invoke'] },
    });
    const set = await api('PUT', `/v1/admin/orgs/${orgId}/limits`, {
      token: admin.accessToken,
      body: { subject: `client#${created.body.clientId}`, resource: 'api', hourly: 0 },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const problems: string[] = [];
    const refused = await api('GET', `/v1/orgs/${orgId}`, { apiKey: created.body.key });
    expect([refused.status, refused.headers.get('x-ratelimit-remaining')]).toEqual([429, '0']);
    problems.push(...conformance('GET', '/v1/orgs/{orgId}', refused), ...undeclaredHeaders('GET', '/v1/orgs/{orgId}', refused));
    // On the gateway, the limits refuse a call once it is routed: its route comes with the refusal.
    const chat = '/openai/v1/chat/completions';
    const body = { model: 'local-chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 };
    const call = await gateway('/chat/completions', { apiKey: created.body.key }, body);
    expect([call.status, call.headers.get('x-ratelimit-remaining')]).toEqual([429, '0']);
    problems.push(...conformance('POST', chat, call), ...undeclaredHeaders('POST', chat, call));
    expect(problems).toEqual([]);
    const rateLimit = ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'];
    for (const route of deployed().filter((r) => r.consumes || r.auth === 'principal'))
      expect(declaredOn(route, 429), route.id).toEqual(expect.arrayContaining(rateLimit));
  });

  it('an Idempotency-Key replay declares Idempotent-Replayed on its success, on every idempotent route', async () => {
    const owner = await signUpUser('oac-idem');
    const slug = `oac-${randomUUID().slice(0, 8)}`;
    const problems: string[] = [];
    const check = checker(problems, {
      token: owner.accessToken,
      headers: { 'idempotency-key': `oac-key-${slug}` },
      body: { name: 'Replayed', slug },
    });
    expect((await check('POST', '/v1/orgs', '/v1/orgs')).status).toBe(201);
    const replay = await check('POST', '/v1/orgs', '/v1/orgs');
    expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    problems.push(...undeclaredHeaders('POST', '/v1/orgs', replay));
    expect(problems).toEqual([]);
    const idempotent = deployed().filter((r) => r.idempotent);
    expect(idempotent.length).toBeGreaterThan(0);
    for (const route of idempotent)
      expect(declaredOn(route, route.successStatus ?? 200), route.id).toContain('idempotent-replayed');
  });

  it('a routed gateway call declares x-route (and the gateway’s overhead) on its answers, on every call route', async () => {
    const owner = await signUpUser('oac-xroute');
    const problems: string[] = [];
    const calls: Array<[string, unknown]> = [
      ['/chat/completions', { model: 'local-chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }],
      ['/embeddings', { model: 'local-embed', input: 'a' }],
      ['/images/generations', { model: 'local-image', prompt: 'a lighthouse' }],
    ];
    for (const [path, body] of calls) {
      const res = await gateway(path, { token: owner.accessToken }, body);
      expect([path, res.status, Boolean(res.headers.get('x-route'))]).toEqual([path, 200, true]);
      problems.push(...undeclaredHeaders('POST', `/openai/v1${path}`, res));
    }
    expect(problems).toEqual([]);
    const callRoutes = deployed().filter((r) => r.surface === 'gateway' && r.consumes);
    expect(callRoutes.map((r) => r.path).sort()).toEqual(calls.map(([path]) => `/openai/v1${path}`).sort());
    for (const route of callRoutes)
      for (const status of [200, 402, 422, 429, 502, 504])
        expect(declaredOn(route, status), `${route.id} ${status}`).toContain('x-route');
  });

  it('the usage export declares x-next-cursor on its 200, as every route declares the headers it names', async () => {
    const owner = await signUpUser('oac-csv');
    const { orgId } = await createTeam(owner);
    const key = await keyFor(owner, orgId);
    for (let i = 0; i < 2; i++) {
      const body = { model: 'local-chat', messages: [{ role: 'user', content: `hi ${i}` }], max_tokens: 5 };
      expect((await gateway('/chat/completions', { apiKey: key }, body)).status).toBe(200);
    }
    await usageOf(owner, orgId, 2);
    const template = '/v1/orgs/{orgId}/usage/export.csv';
    const res = await api('GET', `/v1/orgs/${orgId}/usage/export.csv?limit=1`, { token: owner.accessToken });
    expect([res.status, Boolean(res.headers.get('x-next-cursor'))]).toEqual([200, true]);
    expect([...conformance('GET', template, res), ...undeclaredHeaders('GET', template, res)]).toEqual([]);
    for (const route of deployed().filter((r) => r.responseHeaders))
      for (const name of Object.keys(route.responseHeaders!))
        expect(declaredOn(route, route.successStatus ?? 200), route.id).toContain(name.toLowerCase());
  });
});
