import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { authenticateApiKey } from '@platform/domain/identity/api-clients';
import { logger } from '@platform/http/observability';

type Context = Record<string, string>;

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

const deny = (): APIGatewaySimpleAuthorizerWithContextResult<Context> => ({ isAuthorized: false, context: {} });

/**
 * Lambda authorizer of `principal` routes: a Cognito access token or an API client key, in
 * `Authorization: Bearer …` or `x-api-key`. Its context is what the handlers read as the caller.
 */
export const handler = async (
  event: APIGatewayRequestAuthorizerEventV2,
): Promise<APIGatewaySimpleAuthorizerWithContextResult<Context>> => {
  const headers = event.headers ?? {};
  const presented = headers['x-api-key'] ?? headers.authorization?.replace(/^Bearer\s+/i, '');
  if (!presented) return deny();
  try {
    if (presented.startsWith('ak_')) {
      const client = await authenticateApiKey(presented);
      if (!client) return deny();
      return {
        isAuthorized: true,
        context: { kind: 'apiClient', clientId: client.clientId, orgId: client.orgId, scopes: client.scopes.join(' ') },
      };
    }
    const claims = await jwtVerifier().verify(presented);
    const groups = claims['cognito:groups'] ?? [];
    return { isAuthorized: true, context: { kind: 'user', userId: claims.sub, groups: `[${groups.join(' ')}]` } };
  } catch (error) {
    logger.debug('Credentials refused', { reason: (error as Error).name });
    return deny();
  }
};
