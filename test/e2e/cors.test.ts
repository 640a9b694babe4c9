import { beforeAll, describe, expect, it } from 'vitest';
import { api, createTeam, signUpPlatformAdmin, signUpUser, type SignedInUser } from '../helpers/api.ts';

/**
 * A browser reads a response header only if `access-control-expose-headers` names it: a 429's
 * `Retry-After` and `X-RateLimit-*`, a list's `X-Next-Cursor`. Refusals carry it as successes do.
 */
let owner: SignedInUser;
let admin: SignedInUser;
let orgId: string;
const ORIGIN = { origin: 'http://localhost:5173' };

beforeAll(async () => {
  [owner, admin] = await Promise.all([signUpUser('cors'), signUpPlatformAdmin('cors-admin')]);
  ({ orgId } = await createTeam(owner));
}, 60_000);

const exposed = (response: { headers: Headers }) => response.headers.get('access-control-expose-headers') ?? '';

describe('CORS headers', () => {
  it('a success exposes the headers a browser may read', async () => {
    const ok = await api('GET', `/v1/orgs/${orgId}`, { token: owner.accessToken, headers: ORIGIN });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBeTruthy();
    expect(exposed(ok)).toContain('retry-after');
  });

  it('a 429 exposes Retry-After and X-RateLimit-* too', async () => {
    const created = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      token: owner.accessToken,
      body: { name: 'Browser', scopes: ['org:read'] },
    });
    expect(created.status).toBe(201);
    const set = await api('PUT', `/v1/admin/orgs/${orgId}/limits`, {
      token: admin.accessToken,
      body: { subject: `client#${created.body.clientId}`, resource: 'api', hourly: 0 },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const refused = await api('GET', `/v1/orgs/${orgId}`, { apiKey: created.body.key, headers: ORIGIN });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(exposed(refused)).toContain('retry-after');
    expect(exposed(refused)).toContain('x-ratelimit-reset');
  });

  it('a 400 problem answer carries the same CORS headers as a success', async () => {
    const bad = await api('GET', `/v1/orgs/${orgId}/members?limit=0`, { token: owner.accessToken, headers: ORIGIN });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(exposed(bad)).toContain('x-next-cursor');
  });
});
