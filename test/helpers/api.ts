import { createHmac, randomUUID } from 'node:crypto';
import { expect, inject } from 'vitest';
import { signStripePayload } from '@platform/domain/billing/stripe/signature';
import { DYNAMO_BUDGET, OVER_BUDGET } from './budget.ts';

export const baseUrl = () => inject('cloud').url;

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  dynamoRequests: string[];
}

export interface CallOptions {
  token?: string;
  apiKey?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/**
 * Calls the local API. Every response is checked for what the platform promises of all
 * routes: no Scan behind it, and errors as problem+json.
 */
export async function api<T = any>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.apiKey) headers['x-api-key'] = options.apiKey;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(baseUrl() + path, { method, headers, body });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  const parsed = text && /json/.test(type) ? JSON.parse(text) : text;
  const list = (header: string) => (response.headers.get(header) ?? '-').split(',').filter((x) => x && x !== '-');
  const dynamoRequests = list('x-local-dynamodb');
  const route = response.headers.get('x-local-route') ?? '';
  expect([...dynamoRequests, ...list('x-local-dynamodb-other')], `${method} ${path} must not Scan`).not.toContain('Scan');
  if (!(route in OVER_BUDGET))
    expect(dynamoRequests.length, `${route} made ${dynamoRequests.join(', ')}`).toBeLessThanOrEqual(DYNAMO_BUDGET);
  // The AI gateway answers errors in OpenAI's shape instead (see test/e2e/gateway.test.ts).
  if (response.status >= 400 && !path.startsWith('/openai/'))
    expect(type, `${method} ${path} → ${response.status} must be problem+json`).toContain('application/problem+json');
  return { status: response.status, headers: response.headers, body: parsed as T, dynamoRequests };
}

export const uniqueEmail = (prefix = 'user') => `${prefix}-${randomUUID().slice(0, 8)}@example.test`;
export const PASSWORD = 'Corr3ct-Horse-Battery!';

export async function latestMail(email: string, kind?: string) {
  const { body } = await api('GET', `/local/outbox?to=${encodeURIComponent(email)}`);
  const items = (body.items as Array<{ kind: string; code?: string; link?: string; subject: string }>).filter(
    (m) => !kind || m.kind === kind,
  );
  return items.at(-1);
}

export interface SignedInUser {
  email: string;
  password: string;
  userId: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  personalOrgId: string;
}

/** The whole sign-up journey over HTTP: sign up, code from the outbox, confirm, sign in. */
export async function signUpUser(prefix = 'user', fullName?: string): Promise<SignedInUser> {
  const email = uniqueEmail(prefix);
  const signUp = await api('POST', '/v1/auth/sign-up', { body: { email, password: PASSWORD, fullName } });
  expect(signUp.status).toBe(201);
  const mail = await latestMail(email, 'verification');
  expect(await api('POST', '/v1/auth/confirm-sign-up', { body: { email, code: mail!.code } })).toMatchObject({ status: 200 });
  return signIn(email);
}

export async function signIn(email: string, password = PASSWORD): Promise<SignedInUser> {
  const res = await api('POST', '/v1/auth/sign-in', { body: { email, password } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const me = await api('GET', '/v1/me', { token: res.body.accessToken });
  expect(me.status).toBe(200);
  return {
    email,
    password,
    userId: me.body.userId,
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
    sessionId: res.body.sessionId,
    personalOrgId: me.body.defaultOrgId,
  };
}

/** A team organization owned by `owner`, with optional members in given roles (via invitations). */
export async function createTeam(owner: SignedInUser, members: Array<{ user: SignedInUser; role: string }> = []) {
  const slug = `team-${randomUUID().slice(0, 8)}`;
  const created = await api('POST', '/v1/orgs', { token: owner.accessToken, body: { name: `Team ${slug}`, slug } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const orgId = created.body.orgId as string;
  for (const { user, role } of members) {
    const invitation = await api('POST', `/v1/orgs/${orgId}/invitations`, {
      token: owner.accessToken,
      body: { email: user.email, role },
    });
    expect(invitation.status, JSON.stringify(invitation.body)).toBe(201);
    const accepted = await api('POST', `/v1/invitations/${invitation.body.invitationId}/accept`, { token: user.accessToken });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
  }
  return { orgId, slug };
}

/** RFC 4648 base32 (the alphabet of TOTP secrets) to bytes. */
export function base32Decode(input: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = input.replace(/=+$/, '').replace(/\s+/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of clean) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`Not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** An authenticator app's code (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) for a base32 secret. */
export function totp(secret: string, at = Date.now(), stepSeconds = 30, digits = 6): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / stepSeconds)));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** Invites `user` into `orgId` as `role` and has them accept; answers the invitation id. */
export async function addMember(owner: SignedInUser, orgId: string, user: SignedInUser, role: string): Promise<string> {
  const invitation = await api('POST', `/v1/orgs/${orgId}/invitations`, {
    token: owner.accessToken,
    body: { email: user.email, role },
  });
  expect(invitation.status, JSON.stringify(invitation.body)).toBe(201);
  const accepted = await api('POST', `/v1/invitations/${invitation.body.invitationId}/accept`, { token: user.accessToken });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
  return invitation.body.invitationId as string;
}

/** The `errors[].path` of a problem answer. */
export const errorPaths = (body: { errors?: Array<{ path: string }> }) => (body.errors ?? []).map((e) => e.path);

/** A new user in the platform `admin` group, signed in again so the token carries the group. */
export async function signUpPlatformAdmin(prefix = 'admin'): Promise<SignedInUser> {
  const { identityProvider } = await import('@platform/domain/identity/cognito');
  const user = await signUpUser(prefix);
  await identityProvider.addToGroup(user.email, 'admin');
  return signIn(user.email);
}

/**
 * Waits for a notification of `type` to reach `user` (billing's arrive through the table's
 * stream, a moment after the change that causes them); answers it.
 */
export async function waitForNotification(
  user: SignedInUser,
  type: string,
  match: (n: any) => boolean = () => true,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api('GET', '/v1/me/notifications?limit=100', { token: user.accessToken });
    const found = (body.items as Array<{ type: string }>).find((n) => n.type === type && match(n));
    if (found) return found as any;
    if (Date.now() > deadline) throw new Error(`No ${type} notification for ${user.email} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** Polls `read` until `done` holds of its answer (a webhook applies a checkout a moment after the payment). */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`Not reached within ${timeoutMs} ms: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** Opens a checkout's payment page on the local Stripe: it pays, and Stripe's webhooks follow. */
export async function payCheckout(url: string) {
  const res = await fetch(url);
  expect(res.status).toBe(200);
}

/** The calls the local Stripe received (the API's adapter talking to "Stripe"). */
export async function stripeCalls(): Promise<Array<{ method: string; path: string; params: Record<string, string> }>> {
  const res = await fetch(`${inject('cloud').env.STRIPE_API_BASE}/__local/requests`);
  return ((await res.json()) as { items: [] }).items;
}

/**
 * The subscriptions the local Stripe holds, as they stand. Read without a call to its API, so
 * that one test looking does not add to the calls another test counts.
 */
export async function stripeSubscriptions(): Promise<
  Array<{ id: string; status: string; default_payment_method?: string; metadata?: Record<string, string> }>
> {
  const res = await fetch(`${inject('cloud').env.STRIPE_API_BASE}/__local/subscriptions`);
  return ((await res.json()) as { items: [] }).items;
}

/** Delivers a Stripe event, signed with the local webhook secret, as Stripe would (`POST /v1/webhooks/stripe`). */
export async function deliverStripeEvent(type: string, object: object, created = Math.floor(Date.now() / 1000)) {
  const raw = JSON.stringify({ id: `evt_${randomUUID().replaceAll('-', '')}`, object: 'event', type, created, data: { object } });
  return api('POST', '/v1/webhooks/stripe', {
    rawBody: raw,
    headers: {
      'content-type': 'application/json',
      'stripe-signature': signStripePayload(raw, inject('cloud').env.STRIPE_WEBHOOK_SECRET!),
    },
  });
}

/**
 * Retries a write that a suite running beside this one made a 409 "… changed meanwhile; retry":
 * platform-wide things kept as one item under optimistic locking (the platform's default keys,
 * admin config; a provider of the catalogue) refuse one of two concurrent writes, and tell the
 * client to retry.
 * Any other answer, or the same 409 after `attempts`, is answered as it is.
 */
async function retryingConflicts<T = any>(write: () => Promise<ApiResponse<T>>, attempts = 6): Promise<ApiResponse<T>> {
  for (let attempt = 1; ; attempt++) {
    const res = await write();
    const detail = (res.body as { detail?: unknown } | undefined)?.detail;
    if (res.status !== 409 || typeof detail !== 'string' || !detail.includes('changed meanwhile') || attempt >= attempts)
      return res;
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 100));
  }
}

/** A platform admin's write to what is one item platform-wide, its 409 "changed meanwhile; retry" retried (`retryingConflicts`). */
export const asPlatformAdmin = (admin: SignedInUser, method: string, path: string, body?: unknown) =>
  retryingConflicts(() => api(method, path, { token: admin.accessToken, ...(body !== undefined ? { body } : {}) }));

/**
 * The platform audit log's events about `targetId` (optionally of one `action`), newest first.
 * Every suite's platform-wide changes land in that one log at the same time, so it is read page
 * by page back past `since` (epoch ms, before the test's first change), not one page of it.
 */
export async function platformAuditEvents(
  admin: SignedInUser,
  targetId: string,
  since: number,
  action?: string,
): Promise<Array<{ action: string; targetId: string; actorId: string; at: string; [key: string]: any }>> {
  const found = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const query = new URLSearchParams({ limit: '100', ...(action ? { action } : {}), ...(cursor ? { cursor } : {}) });
    const res: ApiResponse = await api('GET', `/v1/admin/audit-events?${query}`, { token: admin.accessToken });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const items = res.body.items as Array<{ action: string; targetId: string; actorId: string; at: string }>;
    found.push(...items.filter((e) => e.targetId === targetId));
    cursor = res.body.nextCursor;
    if (!cursor || items.some((e) => Date.parse(e.at) < since)) break;
  }
  return found;
}

/**
 * Waits, when fewer than `marginMs` are left of the current UTC period of `periodMs` (an hour:
 * 3,600,000), until the next one starts: for a test that reads back, by the period, what it just
 * did, which must not straddle two periods.
 */
export async function clearOfPeriodEnd(periodMs: number, marginMs: number) {
  const left = periodMs - (Date.now() % periodMs);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 100));
}
