import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { validateJwtFields } from 'aws-jwt-verify/jwt';

/** The claims as API Gateway hands them to the function: arrays as "[a b]", objects as JSON, the rest as strings. */
export type RenderedClaims = Record<string, string>;

const MAX_REMEMBERED = 10_000;

/**
 * The HTTP API's JWT authorizer (user and admin routes), on one machine: a Cognito access token
 * of the pool's app client, verified by the same `CognitoJwtVerifier` the deployed code uses.
 *
 * A token whose signature and claims were verified once is remembered by its exact text: the
 * signature, issuer, client and token use are a function of those bytes and of the pool's keys,
 * which the local pool never rotates, so only the time-bound claims (`exp`, `nbf`) can change
 * the answer, and they are checked again on every request. Every request thus gets the decision
 * a fresh verification would give (API Gateway caches nothing else for a JWT authorizer), without
 * an RSA verification and two JSON parses each time: the local server's own cost, not the route's.
 */
export function jwtAuthorizer(cognito: { userPoolId: string; clientId: string; jwks: { keys: unknown[] } }) {
  const verifier = CognitoJwtVerifier.create({ userPoolId: cognito.userPoolId, tokenUse: 'access', clientId: cognito.clientId });
  verifier.cacheJwks(cognito.jwks as never);
  const verified = new Map<string, { payload: { exp?: number; nbf?: number }; claims: RenderedClaims }>();

  /** The claims of a valid token, or undefined for an invalid, expired or not-yet-valid one. */
  return async function claimsOf(token: string): Promise<RenderedClaims | undefined> {
    try {
      const known = verified.get(token);
      if (known) {
        validateJwtFields(known.payload, { issuer: null, audience: null });
        return { ...known.claims };
      }
      const payload = await verifier.verify(token);
      const claims = Object.fromEntries(
        Object.entries(payload).map(([k, v]) => [
          k,
          Array.isArray(v) ? `[${v.join(' ')}]` : typeof v === 'object' ? JSON.stringify(v) : String(v),
        ]),
      );
      if (verified.size >= MAX_REMEMBERED) verified.delete(verified.keys().next().value!);
      verified.set(token, { payload, claims });
      return { ...claims };
    } catch {
      return undefined;
    }
  };
}
