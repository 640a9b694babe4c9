import { createHash } from 'node:crypto';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { Caller } from '@platform/domain/identity/access';
import { PLATFORM_ADMIN_GROUP } from './caller.ts';
import { lazy } from '@platform/domain/shared/lazy';

const loadApiClients = lazy(() => import('@platform/domain/identity/api-clients'));

/**
 * Who presents these credentials: a Cognito access token or an API client key, in
 * `Authorization: Bearer …` or `x-api-key`. The Lambda authorizer of `principal` routes and the
 * AI gateway (which authenticates in its own function, see gateway.ts) share this one reading.
 */
export type Principal = Exclude<Caller, { kind: 'anonymous' }>;

const createVerifier = () =>
  CognitoJwtVerifier.create({
    userPoolId: process.env.USER_POOL_ID!,
    tokenUse: 'access',
    clientId: process.env.USER_POOL_CLIENT_ID!,
  });
let verifier: ReturnType<typeof createVerifier> | undefined;
function jwtVerifier() {
  if (!verifier) {
    verifier = createVerifier();
    // Local cloud only: the keys are handed over, since the verifier fetches only over https.
    if (process.env.COGNITO_JWKS) verifier.cacheJwks(JSON.parse(process.env.COGNITO_JWKS));
  }
  return verifier;
}

/** The credential presented; an empty header is none (a client's unset `x-api-key` beside its Bearer token). */
export function presentedCredential(headers: Record<string, string | undefined>): string | undefined {
  return headers['x-api-key'] || headers.authorization?.replace(/^Bearer\s+/i, '') || undefined;
}

/** The principal behind a credential, or null when it is not valid (never throws for bad input). */
export async function authenticatePrincipal(presented: string): Promise<Principal | null> {
  try {
    if (presented.startsWith('ak_')) {
      // Loaded on first use: a token needs no DynamoDB (see handler.ts on cold starts).
      const { authenticateApiKey } = await loadApiClients();
      return await authenticateApiKey(presented);
    }
    const claims = await jwtVerifier().verify(presented);
    const groups = (claims['cognito:groups'] as string[] | undefined) ?? [];
    return { kind: 'user', userId: claims.sub, groups, isPlatformAdmin: groups.includes(PLATFORM_ADMIN_GROUP) };
  } catch {
    return null;
  }
}

/**
 * The same, remembered for a few seconds per credential (keyed by its hash, never the secret):
 * the gateway's hot path then reads no API client item per call. A revoked key or an expired
 * token stops working at the gateway within `ttlMs`; tokens and keys never past their own expiry.
 */
export function cachedPrincipals(ttlMs: number, maxEntries = 10_000) {
  const cache = new Map<string, { principal: Principal | null; until: number }>();
  return async (presented: string): Promise<Principal | null> => {
    const key = createHash('sha256').update(presented).digest('base64url');
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.principal;
    const principal = await authenticatePrincipal(presented);
    // Refusals are not remembered: a wrong key costs its caller a lookup each time, not the next valid one.
    if (principal) {
      if (cache.size >= maxEntries) cache.clear();
      cache.set(key, { principal, until: now + Math.min(ttlMs, lifetimeMs(presented, principal, now)) });
    } else cache.delete(key);
    return principal;
  };
}

/** Milliseconds until a JWT expires (its `exp`), or an API key (its `expiresAt`; none: unbounded). */
function lifetimeMs(presented: string, principal: Principal, now: number): number {
  if (principal.kind === 'apiClient')
    return principal.expiresAt ? Date.parse(principal.expiresAt) - now : Number.POSITIVE_INFINITY;
  try {
    const payload = JSON.parse(Buffer.from(presented.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number };
    return payload.exp ? payload.exp * 1000 - now : 0;
  } catch {
    return 0;
  }
}
