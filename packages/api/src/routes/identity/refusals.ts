import type { ErrorStatus } from '@platform/http/route';

/**
 * What Cognito's refusals become (identity/cognito.ts `translate`), on every route that calls it:
 * a code or password it refuses 400, wrong credentials or token 401, an unconfirmed account or a
 * required reset 403, an email already taken 409, throttling 429.
 */
export const cognitoRefusals = [400, 401, 403, 409, 429] as const satisfies readonly ErrorStatus[];
