import { createSign, generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jwtAuthorizer } from './jwt-authorizer.ts';

const POOL = 'us-east-1_LocalTest1';
const CLIENT = 'localtestclient';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] };

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
function token(claims: Record<string, unknown>) {
  const input = `${b64({ kid: 'k1', alg: 'RS256' })}.${b64(claims)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
const access = (overrides: Record<string, unknown> = {}) => ({
  sub: 'user-1',
  iss: `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`,
  client_id: CLIENT,
  token_use: 'access',
  'cognito:groups': ['admin', 'beta'],
  iat: now(),
  exp: now() + 60,
  ...overrides,
});

afterEach(() => vi.useRealTimers());

describe('the local JWT authorizer', () => {
  it('renders the claims of a valid access token as API Gateway does', async () => {
    const claimsOf = jwtAuthorizer({ userPoolId: POOL, clientId: CLIENT, jwks });
    const claims = await claimsOf(token(access()));
    expect(claims).toMatchObject({ sub: 'user-1', token_use: 'access', 'cognito:groups': '[admin beta]' });
  });

  it('refuses a forged signature, another client and an ID token, also after the real token was accepted', async () => {
    const claimsOf = jwtAuthorizer({ userPoolId: POOL, clientId: CLIENT, jwks });
    const valid = token(access());
    expect(await claimsOf(valid)).toBeDefined();
    const [header, , signature] = valid.split('.');
    expect(await claimsOf(`${header}.${b64(access({ sub: 'user-2' }))}.${signature}`)).toBeUndefined();
    expect(await claimsOf(token(access({ client_id: 'another' })))).toBeUndefined();
    expect(await claimsOf(token(access({ token_use: 'id', aud: CLIENT })))).toBeUndefined();
  });

  it('refuses a remembered token once it has expired', async () => {
    const claimsOf = jwtAuthorizer({ userPoolId: POOL, clientId: CLIENT, jwks });
    const valid = token(access({ exp: now() + 5 }));
    expect(await claimsOf(valid)).toBeDefined();
    vi.useFakeTimers({ now: Date.now() + 6_000 });
    expect(await claimsOf(valid)).toBeUndefined();
  });

  it('hands each request its own claims object', async () => {
    const claimsOf = jwtAuthorizer({ userPoolId: POOL, clientId: CLIENT, jwks });
    const valid = token(access());
    const first = (await claimsOf(valid))!;
    first.sub = 'changed by a handler';
    expect((await claimsOf(valid))!.sub).toBe('user-1');
  });
});
