import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { traced } from '@platform/http/middleware/tracing';
import { authenticatePrincipal, presentedCredential } from '@platform/http/principal';

type Context = Record<string, string>;

const deny = (): APIGatewaySimpleAuthorizerWithContextResult<Context> => ({ isAuthorized: false, context: {} });

/**
 * Lambda authorizer of `principal` routes: a Cognito access token or an API client key, in
 * `Authorization: Bearer …` or `x-api-key`. Its context is what the handlers read as the caller.
 */
export const handler = traced(
  async (event: APIGatewayRequestAuthorizerEventV2): Promise<APIGatewaySimpleAuthorizerWithContextResult<Context>> => {
    const presented = presentedCredential(event.headers ?? {});
    if (!presented) return deny();
    const principal = await authenticatePrincipal(presented);
    if (!principal) return deny();
    if (principal.kind === 'apiClient')
      return {
        isAuthorized: true,
        context: {
          kind: 'apiClient',
          clientId: principal.clientId,
          orgId: principal.orgId,
          memberId: principal.memberId,
          createdAt: principal.createdAt,
          // A key it makes may not outlive it (createApiClient): its expiry travels with it.
          ...(principal.expiresAt ? { expiresAt: principal.expiresAt } : {}),
          scopes: principal.scopes.join(' '),
        },
      };
    return { isAuthorized: true, context: { kind: 'user', userId: principal.userId, groups: `[${principal.groups.join(' ')}]` } };
  },
);
