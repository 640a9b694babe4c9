import { createPrivateKey, createPublicKey, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AppClient } from 'cognito-local/lib/services/appClient.js';
import type { Clock } from 'cognito-local/lib/services/clock.js';
import type { Context } from 'cognito-local/lib/services/context.js';
import type { TokenGenerator, Tokens } from 'cognito-local/lib/services/tokenGenerator.js';
import type { User } from 'cognito-local/lib/services/userPoolService.js';

/** The public signing key cognito-local ships with (lib/keys). Also served at /<poolId>/.well-known/jwks.json. */
// A type alias (not an interface) so it is assignable to aws-jwt-verify's Jwk (JsonObject needs an index signature).
export type LocalJwk = {
  kty: 'RSA';
  e: string;
  n: string;
  use: 'sig';
  kid: string;
  alg: 'RS256';
};

interface KeyFile {
  jwk: Record<string, string>;
  pem: string;
}

const require = createRequire(import.meta.url);
const publicKeyFile = require('cognito-local/lib/keys/cognitoLocal.public.json') as KeyFile;
const privateKeyFile = require('cognito-local/lib/keys/cognitoLocal.private.json') as KeyFile;

export const PUBLIC_JWK: LocalJwk = {
  kty: 'RSA',
  e: String(publicKeyFile.jwk['e']),
  n: String(publicKeyFile.jwk['n']),
  use: 'sig',
  kid: String(publicKeyFile.jwk['kid']),
  alg: 'RS256',
};

const privateKey: KeyObject = createPrivateKey(privateKeyFile.pem);
const publicKey: KeyObject = createPublicKey({ key: { ...PUBLIC_JWK }, format: 'jwk' });

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

export const signJwt = (payload: Record<string, unknown>): string => {
  const header = b64url(JSON.stringify({ kid: PUBLIC_JWK.kid, alg: 'RS256' }));
  const body = b64url(JSON.stringify(payload));
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${body}`), privateKey);
  return `${header}.${body}.${b64url(signature)}`;
};

/** Decode a JWT payload without verifying it. Returns null when it is not a JWT. */
export const decodeJwt = (token: unknown): Record<string, unknown> | null => {
  if (typeof token !== 'string') return null;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return payload !== null && typeof payload === 'object' && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
};

/** Verify the RS256 signature against the local key and decode. Returns null when the signature is wrong. */
export const verifyJwt = (token: unknown): Record<string, unknown> | null => {
  if (typeof token !== 'string') return null;
  const [header, body, signature] = token.split('.');
  if (!header || !body || !signature) return null;
  const ok = verify('RSA-SHA256', Buffer.from(`${header}.${body}`), publicKey, Buffer.from(signature, 'base64url'));
  return ok ? decodeJwt(token) : null;
};

/**
 * Set by the local router on REFRESH_TOKEN_AUTH so that refreshed tokens keep the session's origin_jti and
 * auth_time, as AWS does. Travels inside cognito-local's ctx object, which the targets pass through untouched.
 */
export interface RefreshOrigin {
  originJti: string;
  authTime: number;
}
export type LocalContext = Context & { refreshOrigin?: RefreshOrigin };

type Unit = 'seconds' | 'minutes' | 'hours' | 'days';
const UNIT_SECONDS: Record<Unit, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86400 };
const lifetime = (value: number | undefined, unit: string | undefined, fallbackSeconds: number): number => {
  if (value === undefined) return fallbackSeconds;
  const u = (unit ?? 'hours') as Unit;
  return value * (UNIT_SECONDS[u] ?? 3600);
};

const BOOLEAN_ATTRIBUTES = new Set(['email_verified', 'phone_number_verified']);
const NUMBER_ATTRIBUTES = new Set(['updated_at']);

/**
 * Replaces cognito-local's JwtTokenGenerator to get AWS-shaped tokens:
 *  - access & id tokens carry `origin_jti` (= the refresh token's jti), stable across REFRESH_TOKEN_AUTH,
 *  - refreshed tokens keep the original `auth_time`,
 *  - access tokens carry `version: 2`; the id token carries every user attribute (not only email + custom:*),
 *  - the JWT header is `{kid, alg}` like AWS.
 * PreTokenGeneration is not supported (no in-process hook for it).
 */
export class LocalTokenGenerator implements TokenGenerator {
  constructor(
    private readonly clock: Clock,
    private readonly issuerDomain: string,
  ) {}

  generate(
    ctx: LocalContext,
    user: User,
    userGroups: readonly string[],
    client: AppClient,
    _clientMetadata: Record<string, string> | undefined,
    _source: Parameters<TokenGenerator['generate']>[5],
  ): Promise<Tokens> {
    const now = Math.floor(this.clock.get().getTime() / 1000);
    const origin = ctx.refreshOrigin;
    const originJti = origin?.originJti ?? randomUUID();
    const authTime = origin?.authTime ?? now;
    const eventId = randomUUID();
    const iss = `${this.issuerDomain}/${client.UserPoolId}`;
    const units = client.TokenValidityUnits;
    const attrs = Object.fromEntries(
      user.Attributes.filter((a) => a.Value !== undefined).map((a) => [a.Name, a.Value as string]),
    );
    const sub = attrs['sub'];
    const groups = userGroups.length ? { 'cognito:groups': [...userGroups] } : {};

    const access = {
      sub,
      ...groups,
      iss,
      version: 2,
      client_id: client.ClientId,
      origin_jti: originJti,
      event_id: eventId,
      token_use: 'access',
      scope: 'aws.cognito.signin.user.admin',
      auth_time: authTime,
      exp: now + lifetime(client.AccessTokenValidity, units?.AccessToken, 3600),
      iat: now,
      jti: randomUUID(),
      username: user.Username,
    };

    const userClaims: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(attrs)) {
      if (name === 'sub') continue;
      userClaims[name] = BOOLEAN_ATTRIBUTES.has(name)
        ? value === 'true'
        : NUMBER_ATTRIBUTES.has(name) && Number.isFinite(Number(value))
          ? Number(value)
          : value;
    }
    const id = {
      sub,
      ...groups,
      ...userClaims,
      iss,
      'cognito:username': user.Username,
      origin_jti: originJti,
      aud: client.ClientId,
      event_id: eventId,
      token_use: 'id',
      auth_time: authTime,
      exp: now + lifetime(client.IdTokenValidity, units?.IdToken, 3600),
      iat: now,
      jti: randomUUID(),
    };

    // AWS refresh tokens are opaque (JWE). Locally it is a signed JWT whose jti is the session's origin_jti.
    const refresh = {
      jti: originJti,
      'cognito:username': user.Username,
      client_id: client.ClientId,
      auth_time: authTime,
      iat: now,
      exp: now + lifetime(client.RefreshTokenValidity, units?.RefreshToken ?? 'days', 30 * 86400),
      iss,
    };

    return Promise.resolve({ AccessToken: signJwt(access), IdToken: signJwt(id), RefreshToken: signJwt(refresh) });
  }
}
