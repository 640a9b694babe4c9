import {
  CodeMismatchError,
  CognitoError,
  InvalidParameterError,
  NotAuthorizedError,
  UserNotFoundError,
} from 'cognito-local/lib/errors.js';
import type { Route, Router } from 'cognito-local/lib/server/Router.js';
import type { Services } from 'cognito-local/lib/services/index.js';
import type { Context } from 'cognito-local/lib/services/context.js';
import { attributeValue, type User, type UserPoolService } from 'cognito-local/lib/services/userPoolService.js';
import { PASSWORD_SYMBOLS } from '@platform/domain/identity/password-policy';
import { decodeJwt, verifyJwt, type LocalContext } from './tokens.js';

/** Mutable state shared by the router wrapper (in memory only; lost on restart). */
export interface RouterState {
  /** origin_jti of sessions ended by RevokeToken / GlobalSignOut / AdminUserGlobalSignOut. */
  revokedOrigins: Set<string>;
  /** Requests being processed, awaited by stop(). */
  inFlight: Set<Promise<unknown>>;
  /** Challenge sessions issued by InitiateAuth / RespondToAuthChallenge, not yet answered: Session → its user. */
  challengeSessions: Map<string, ChallengeSession>;
  /** The passwords each user had before the current one, newest first (Username → passwords), for PasswordHistorySize. */
  passwordHistory: Map<string, string[]>;
}

export interface ChallengeSession {
  /** The user's canonical Username (not the e-mail alias). */
  username: string;
  expiresAt: number;
}

/** Cognito's challenge sessions last 3 minutes (the app client's default AuthSessionValidity). */
export const CHALLENGE_SESSION_MS = 3 * 60_000;

type PasswordPolicy = {
  MinimumLength?: number;
  RequireUppercase?: boolean;
  RequireLowercase?: boolean;
  RequireNumbers?: boolean;
  RequireSymbols?: boolean;
  PasswordHistorySize?: number;
};

/** Returns the AWS error message for a password that breaks the policy, or null. */
export const passwordPolicyViolation = (password: string, policy: PasswordPolicy | undefined): string | null => {
  if (!policy) return null;
  const prefix = 'Password did not conform with policy: ';
  if (password.length < (policy.MinimumLength ?? 8)) return `${prefix}Password not long enough`;
  if (policy.RequireUppercase && !/[A-Z]/.test(password)) return `${prefix}Password must have uppercase characters`;
  if (policy.RequireLowercase && !/[a-z]/.test(password)) return `${prefix}Password must have lowercase characters`;
  if (policy.RequireNumbers && !/[0-9]/.test(password)) return `${prefix}Password must have numeric characters`;
  if (policy.RequireSymbols && !PASSWORD_SYMBOLS.test(password)) return `${prefix}Password must have symbol characters`;
  return null;
};

class InvalidPasswordPolicyError extends CognitoError {
  constructor(message: string) {
    super('InvalidPasswordException', message);
  }
}

class PasswordHistoryPolicyViolationError extends CognitoError {
  constructor() {
    super('PasswordHistoryPolicyViolationException', 'Provided password cannot be used for security reasons.');
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Wraps cognito-local's Router to fix behaviours that differ from AWS and to add the sign-out operations it lacks.
 * Every deviation is listed in README.md.
 */
export const localRouter = (services: Services, base: Router, issuer: string, state: RouterState): Router => {
  const { cognito } = services;

  const poolForClient = (ctx: Context, clientId: unknown): Promise<UserPoolService | null> =>
    typeof clientId === 'string' ? cognito.getUserPoolForClientId(ctx, clientId).catch(() => null) : Promise.resolve(null);
  const poolById = (ctx: Context, poolId: unknown): Promise<UserPoolService | null> =>
    typeof poolId === 'string' ? cognito.getUserPool(ctx, poolId).catch(() => null) : Promise.resolve(null);

  const checkPassword = (pool: UserPoolService | null, password: unknown): void => {
    if (!pool || typeof password !== 'string') return;
    const violation = passwordPolicyViolation(password, pool.options.Policies?.PasswordPolicy);
    if (violation) throw new InvalidPasswordPolicyError(violation);
  };

  /**
   * AWS refuses a new password that is one of the user's last PasswordHistorySize passwords, the current one among
   * them. cognito-local keeps no history: the earlier passwords are kept here, in memory (a restart forgets them).
   */
  const recentPasswords = (pool: UserPoolService | null, user: User | null): string[] => {
    const size = pool?.options.Policies?.PasswordPolicy?.PasswordHistorySize ?? 0;
    if (!user || size <= 0) return [];
    return [user.Password, ...(state.passwordHistory.get(user.Username) ?? [])].slice(0, size);
  };
  const checkHistory = (pool: UserPoolService | null, user: User | null, password: unknown): void => {
    if (typeof password === 'string' && recentPasswords(pool, user).includes(password)) {
      throw new PasswordHistoryPolicyViolationError();
    }
  };
  /** Called once a password change succeeded: the password it replaced joins the history. */
  const rememberPassword = (pool: UserPoolService | null, before: User | null): void => {
    const size = pool?.options.Policies?.PasswordPolicy?.PasswordHistorySize ?? 0;
    if (before && size > 0) state.passwordHistory.set(before.Username, recentPasswords(pool, before).slice(0, size - 1));
  };

  /** AWS rejects forged, expired and revoked access tokens on every access-token API; cognito-local only decodes them. */
  const checkAccessToken = (token: unknown): Record<string, unknown> => {
    const claims = verifyJwt(token);
    if (!claims || claims['token_use'] !== 'access' || claims['iss'] !== issuer) {
      throw new NotAuthorizedError('Invalid Access Token');
    }
    if (typeof claims['exp'] === 'number' && claims['exp'] * 1000 <= Date.now()) {
      throw new NotAuthorizedError('Access Token has expired');
    }
    if (typeof claims['origin_jti'] === 'string' && state.revokedOrigins.has(claims['origin_jti'])) {
      throw new NotAuthorizedError('Access Token has been revoked');
    }
    return claims;
  };

  const signOutEverywhere = async (ctx: Context, pool: UserPoolService, user: User): Promise<void> => {
    for (const token of user.RefreshTokens ?? []) {
      const jti = decodeJwt(token)?.['jti'];
      if (typeof jti === 'string') state.revokedOrigins.add(jti);
    }
    await pool.saveUser(ctx, { ...user, RefreshTokens: [] });
  };

  const userForSignIn = async (pool: UserPoolService | null, ctx: Context, username: unknown): Promise<User | null> =>
    pool && typeof username === 'string' ? pool.getUserByUsername(ctx, username) : null;

  /** Remembers the Session of a challenge answer so that only that user can answer it, once, within 3 minutes. */
  const recordChallenge = (result: unknown, user: User | null): void => {
    const session = str((result as { Session?: unknown } | undefined)?.Session);
    if (session && user) {
      state.challengeSessions.set(session, { username: user.Username, expiresAt: Date.now() + CHALLENGE_SESSION_MS });
    }
  };

  /**
   * cognito-local accepts any Session string, so the MFA step alone (no password) would give tokens. AWS refuses a
   * session it did not issue, one already answered, an expired one and another user's. The session is taken out
   * while the answer is checked (a concurrent second answer is refused) and put back only if the answer was wrong.
   */
  const claimChallenge = (session: unknown, user: User | null): ChallengeSession => {
    const key = str(session);
    const found = key === undefined ? undefined : state.challengeSessions.get(key);
    if (key !== undefined) state.challengeSessions.delete(key);
    for (const [k, s] of state.challengeSessions) if (s.expiresAt <= Date.now()) state.challengeSessions.delete(k);
    if (!found || found.expiresAt <= Date.now() || !user || found.username !== user.Username) {
      throw new NotAuthorizedError('Invalid session for the user.');
    }
    return found;
  };

  const passwordAuth = async (ctx: Context, req: any, route: Route, pool: UserPoolService | null): Promise<unknown> => {
    const user = await userForSignIn(pool, ctx, req.AuthParameters?.USERNAME);
    if (user && user.Enabled === false) throw new NotAuthorizedError('User is disabled.');
    try {
      const result = await route(ctx, req);
      recordChallenge(result, user);
      return result;
    } catch (err) {
      // cognito-local answers InvalidPasswordException / "User not authorized"; AWS answers this for both.
      if (err instanceof CognitoError && (err.code === 'InvalidPasswordException' || err.code === 'NotAuthorizedException')) {
        throw new NotAuthorizedError('Incorrect username or password.');
      }
      throw err;
    }
  };

  const refreshAuth = async (ctx: Context, req: any, route: Route, pool: UserPoolService | null): Promise<unknown> => {
    const token = req.AuthParameters?.REFRESH_TOKEN;
    const claims = verifyJwt(token);
    if (!claims) throw new NotAuthorizedError('Invalid Refresh Token');
    if (typeof claims['exp'] === 'number' && claims['exp'] * 1000 <= Date.now()) {
      throw new NotAuthorizedError('Refresh Token has expired');
    }
    const user = pool ? await pool.getUserByRefreshToken(ctx, token as string) : null;
    if (!user) throw new NotAuthorizedError('Refresh Token has been revoked');
    if (user.Enabled === false) throw new NotAuthorizedError('User is disabled.');
    const originJti = str(claims['jti']);
    const authTime = typeof claims['auth_time'] === 'number' ? claims['auth_time'] : undefined;
    const local: LocalContext =
      originJti !== undefined && authTime !== undefined ? { ...ctx, refreshOrigin: { originJti, authTime } } : ctx;
    return route(local, req);
  };

  /**
   * The user a client's confirming call (ConfirmSignUp, ConfirmForgotPassword) names. The app client prevents user
   * existence errors (pool.ts): AWS then answers an unknown user as a wrong code, where cognito-local answers
   * UserNotFoundException. The admin calls still answer UserNotFoundException, as on AWS.
   */
  const userToConfirm = async (pool: UserPoolService | null, ctx: Context, username: unknown): Promise<User | null> => {
    const user = await userForSignIn(pool, ctx, username);
    if (pool && !user) throw new CodeMismatchError();
    return user;
  };

  const TRIGGER_FAILURES = new Set(['UserLambdaValidationException', 'InvalidLambdaResponseException']);

  /**
   * cognito-local saves the user as CONFIRMED before running PostConfirmation. When the trigger fails we put the
   * user back as it was (UNCONFIRMED, same code) so that the confirmation really failed and can be retried.
   */
  const confirmSignUp = async (ctx: Context, req: any, route: Route, pool: UserPoolService | null, before: User | null) => {
    if (before && before.UserStatus !== 'UNCONFIRMED') {
      throw new NotAuthorizedError('User cannot confirm because user status is not UNCONFIRMED.');
    }
    try {
      return await route(ctx, req);
    } catch (err) {
      if (pool && before && err instanceof CognitoError && TRIGGER_FAILURES.has(err.code)) await pool.saveUser(ctx, before);
      throw err;
    }
  };

  type Override = (ctx: Context, req: any, route: Route) => Promise<unknown>;
  const overrides: Record<string, Override> = {
    ConfirmSignUp: async (ctx, req, route) => {
      const pool = await poolForClient(ctx, req.ClientId);
      return confirmSignUp(ctx, req, route, pool, await userToConfirm(pool, ctx, req.Username));
    },
    AdminConfirmSignUp: async (ctx, req, route) => {
      const pool = await poolById(ctx, req.UserPoolId);
      return confirmSignUp(ctx, req, route, pool, await userForSignIn(pool, ctx, req.Username));
    },

    // cognito-local lacks this operation ("Unsupported x-amz-target header"); served here.
    ResendConfirmationCode: async (ctx, req) => {
      const pool = await cognito.getUserPoolForClientId(ctx, String(req.ClientId));
      const user = await userForSignIn(pool, ctx, req.Username);
      if (!user) throw new UserNotFoundError('Username/client id combination not found.');
      if (user.UserStatus !== 'UNCONFIRMED') throw new InvalidParameterError('User is already confirmed.');
      const email = attributeValue('email', user.Attributes);
      if (!email) throw new InvalidParameterError('User has no attribute matching desired auto verified attributes');
      const code = services.otp();
      const details = { AttributeName: 'email', DeliveryMedium: 'EMAIL', Destination: email } as const;
      await services.messages.deliver(ctx, 'ResendCode', req.ClientId, pool.options.Id, user, code, req.ClientMetadata, details);
      await pool.saveUser(ctx, { ...user, ConfirmationCode: code, UserLastModifiedDate: services.clock.get() });
      return { CodeDeliveryDetails: details };
    },

    SignUp: async (ctx, req, route) => {
      checkPassword(await poolForClient(ctx, req.ClientId), req.Password);
      return route(ctx, req);
    },
    // Like AWS, confirming a reset runs PostConfirmation (source PostConfirmation_ConfirmForgotPassword), which also
    // confirms an UNCONFIRMED user. When the trigger fails the user is put back as it was, as for ConfirmSignUp.
    ConfirmForgotPassword: async (ctx, req, route) => {
      const pool = await poolForClient(ctx, req.ClientId);
      checkPassword(pool, req.Password);
      const before = await userToConfirm(pool, ctx, req.Username);
      // A wrong code is refused as such (by cognito-local), whatever the password.
      if (before?.ConfirmationCode === req.ConfirmationCode) checkHistory(pool, before, req.Password);
      try {
        const result = await route(ctx, req);
        rememberPassword(pool, before);
        return result;
      } catch (err) {
        if (pool && before && err instanceof CognitoError && TRIGGER_FAILURES.has(err.code)) await pool.saveUser(ctx, before);
        throw err;
      }
    },
    ChangePassword: async (ctx, req, route) => {
      const claims = checkAccessToken(req.AccessToken);
      const pool = await poolForClient(ctx, claims['client_id']);
      checkPassword(pool, req.ProposedPassword);
      const before = await userForSignIn(pool, ctx, claims['username']);
      if (before?.Password === req.PreviousPassword) checkHistory(pool, before, req.ProposedPassword);
      const result = await route(ctx, req);
      rememberPassword(pool, before);
      return result;
    },
    AdminSetUserPassword: async (ctx, req, route) => {
      const pool = await poolById(ctx, req.UserPoolId);
      checkPassword(pool, req.Password);
      const before = await userForSignIn(pool, ctx, req.Username);
      checkHistory(pool, before, req.Password);
      const result = await route(ctx, req);
      rememberPassword(pool, before);
      return result;
    },
    AdminCreateUser: async (ctx, req, route) => {
      checkPassword(await poolById(ctx, req.UserPoolId), req.TemporaryPassword);
      return route(ctx, req);
    },

    InitiateAuth: async (ctx, req, route) => {
      const pool = await poolForClient(ctx, req.ClientId);
      if (req.AuthFlow === 'USER_PASSWORD_AUTH') return passwordAuth(ctx, req, route, pool);
      if (req.AuthFlow === 'REFRESH_TOKEN_AUTH' || req.AuthFlow === 'REFRESH_TOKEN') return refreshAuth(ctx, req, route, pool);
      return route(ctx, req);
    },
    AdminInitiateAuth: async (ctx, req, route) => {
      const pool = await poolById(ctx, req.UserPoolId);
      if (req.AuthFlow === 'ADMIN_USER_PASSWORD_AUTH' || req.AuthFlow === 'ADMIN_NO_SRP_AUTH') {
        return passwordAuth(ctx, req, route, pool);
      }
      if (req.AuthFlow === 'REFRESH_TOKEN_AUTH' || req.AuthFlow === 'REFRESH_TOKEN') return refreshAuth(ctx, req, route, pool);
      return route(ctx, req);
    },

    // cognito-local issues a refresh token after an MFA challenge but never stores it, so it could not be used
    // for REFRESH_TOKEN_AUTH nor revoked. Store it like the USER_PASSWORD_AUTH path does.
    RespondToAuthChallenge: async (ctx, req, route) => {
      const pool = await poolForClient(ctx, req.ClientId);
      const user = await userForSignIn(pool, ctx, req.ChallengeResponses?.USERNAME);
      const claimed = claimChallenge(req.Session, user);
      if (user?.Enabled === false) throw new NotAuthorizedError('User is disabled.');
      let result: { AuthenticationResult?: { RefreshToken?: string } } | undefined;
      try {
        if (req.ChallengeName === 'NEW_PASSWORD_REQUIRED') checkPassword(pool, req.ChallengeResponses?.NEW_PASSWORD);
        result = (await route(ctx, req)) as typeof result;
      } catch (err) {
        // A wrong code may be corrected within the session's lifetime.
        if (err instanceof CognitoError && err.code !== 'NotAuthorizedException')
          state.challengeSessions.set(req.Session, claimed);
        throw err;
      }
      recordChallenge(result, user);
      const refreshToken = result?.AuthenticationResult?.RefreshToken;
      if (pool && user && refreshToken) await pool.storeRefreshToken(ctx, refreshToken, user);
      return result;
    },

    RevokeToken: async (ctx, req, route) => {
      const result = await route(ctx, req);
      const jti = decodeJwt(req.Token)?.['jti'];
      if (typeof jti === 'string') state.revokedOrigins.add(jti);
      return result;
    },

    // cognito-local lacks this operation entirely ("Unsupported x-amz-target header"); served here.
    GlobalSignOut: async (ctx, req) => {
      const claims = checkAccessToken(req.AccessToken);
      const pool = await poolForClient(ctx, claims['client_id']);
      const user = pool && typeof claims['sub'] === 'string' ? await pool.getUserByUsername(ctx, claims['sub']) : null;
      if (!pool || !user) throw new NotAuthorizedError('Invalid Access Token');
      await signOutEverywhere(ctx, pool, user);
      return {};
    },
    AdminUserGlobalSignOut: async (ctx, req) => {
      const pool = await cognito.getUserPool(ctx, String(req.UserPoolId));
      if (typeof req.Username !== 'string') throw new InvalidParameterError('Missing required parameter Username');
      const user = await pool.getUserByUsername(ctx, req.Username);
      if (!user) throw new UserNotFoundError('User does not exist.');
      await signOutEverywhere(ctx, pool, user);
      return {};
    },
  };

  const ACCESS_TOKEN_TARGETS = new Set([
    'GetUser',
    'UpdateUserAttributes',
    'DeleteUserAttributes',
    'DeleteUser',
    'AssociateSoftwareToken',
    'VerifySoftwareToken',
    'SetUserMFAPreference',
    'GetUserAttributeVerificationCode',
    'VerifyUserAttribute',
  ]);

  return (target: string): Route => {
    const route = base(target);
    const override = overrides[target];
    return (ctx, req) => {
      const run = async (): Promise<unknown> => {
        if (ACCESS_TOKEN_TARGETS.has(target) && req?.AccessToken !== undefined) checkAccessToken(req.AccessToken);
        return override ? override(ctx, req ?? {}, route) : route(ctx, req);
      };
      const p = run();
      state.inFlight.add(p);
      const done = (): void => {
        state.inFlight.delete(p);
      };
      p.then(done, done);
      return p;
    };
  };
};
