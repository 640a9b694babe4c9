import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Caller } from '@platform/domain/identity/access';

export const PLATFORM_ADMIN_GROUP = 'admin';

/** API Gateway renders array claims as "[a b]"; the local server does the same. */
export function parseGroups(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map(String);
  if (typeof raw !== 'string' || !raw) return [];
  return raw
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .filter(Boolean);
}

type AuthorizerContext = {
  jwt?: { claims?: Record<string, unknown> };
  lambda?: Record<string, unknown>;
};

/** Reads the caller that API Gateway's authorizers (JWT or Lambda) put in the event. */
export function callerFromEvent(event: APIGatewayProxyEventV2): Caller {
  const authorizer = (event.requestContext as { authorizer?: AuthorizerContext }).authorizer;
  const claims = authorizer?.jwt?.claims;
  if (claims?.sub && claims.token_use === 'access') {
    const groups = parseGroups(claims['cognito:groups']);
    return { kind: 'user', userId: String(claims.sub), groups, isPlatformAdmin: groups.includes(PLATFORM_ADMIN_GROUP) };
  }
  const context = authorizer?.lambda;
  if (context?.kind === 'user' && context.userId) {
    const groups = parseGroups(context.groups);
    return { kind: 'user', userId: String(context.userId), groups, isPlatformAdmin: groups.includes(PLATFORM_ADMIN_GROUP) };
  }
  if (context?.kind === 'apiClient' && context.clientId && context.orgId && context.memberId && context.createdAt) {
    return {
      kind: 'apiClient',
      clientId: String(context.clientId),
      orgId: String(context.orgId),
      memberId: String(context.memberId),
      createdAt: String(context.createdAt),
      ...(typeof context.expiresAt === 'string' && context.expiresAt ? { expiresAt: context.expiresAt } : {}),
      scopes: String(context.scopes ?? '')
        .split(' ')
        .filter(Boolean),
    };
  }
  return { kind: 'anonymous' };
}

/** The signed-in user of a `user` route (the authenticate middleware already refused others). */
export function userOf(caller: Caller): Extract<Caller, { kind: 'user' }> {
  if (caller.kind !== 'user') throw new Error('userOf() on a route that is not for users');
  return caller;
}

/** The raw bearer token, for the few calls (TOTP set-up) that Cognito wants it for. */
export function bearerToken(event: APIGatewayProxyEventV2): string {
  return (event.headers?.authorization ?? '').replace(/^Bearer\s+/i, '');
}

/** What we record about the device of a sign-in. */
export function deviceOf(event: APIGatewayProxyEventV2) {
  const userAgent = event.headers?.['user-agent']?.slice(0, 512);
  return {
    ipAddress: event.requestContext?.http?.sourceIp,
    userAgent,
    deviceInfo: event.headers?.['x-device-name']?.slice(0, 120) ?? userAgent?.split(' ')[0],
  };
}
