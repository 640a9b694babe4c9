import {
  AdminAddUserToGroupCommand,
  AdminDisableUserCommand,
  AdminUserGlobalSignOutCommand,
  AssociateSoftwareTokenCommand,
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  ForgotPasswordCommand,
  GetUserCommand,
  InitiateAuthCommand,
  ResendConfirmationCodeCommand,
  RespondToAuthChallengeCommand,
  RevokeTokenCommand,
  SetUserMFAPreferenceCommand,
  SignUpCommand,
  VerifySoftwareTokenCommand,
  type AuthenticationResultType,
} from '@aws-sdk/client-cognito-identity-provider';
import { awsClientConfig, requiredEnv, reuseSigners } from '../shared/aws.ts';
import {
  ConflictError,
  ForbiddenError,
  TooManyRequestsError,
  UnauthenticatedError,
  ValidationError,
  type DomainError,
} from '../shared/errors.ts';
import { PASSWORD_POLICY } from './password-policy.ts';

/**
 * The identity provider port: every call we make to Cognito, with its errors translated
 * into domain errors. Locally the same SDK calls reach cognito-local.
 */
let client: CognitoIdentityProviderClient | undefined;
const cognito = () => (client ??= reuseSigners(new CognitoIdentityProviderClient(awsClientConfig('cognito'))));
const clientId = () => requiredEnv('USER_POOL_CLIENT_ID');
const userPoolId = () => requiredEnv('USER_POOL_ID');

export interface Tokens {
  accessToken: string;
  idToken: string;
  refreshToken?: string;
  expiresIn: number;
  tokenType: 'Bearer';
}

export type SignInResult =
  { kind: 'tokens'; tokens: Tokens } | { kind: 'challenge'; challenge: 'SOFTWARE_TOKEN_MFA'; session: string };

const toTokens = (r: AuthenticationResultType): Tokens => ({
  accessToken: r.AccessToken!,
  idToken: r.IdToken!,
  refreshToken: r.RefreshToken,
  expiresIn: r.ExpiresIn ?? 3600,
  tokenType: 'Bearer',
});

/** Maps Cognito's exceptions to domain errors; anything unknown stays a 5xx. */
function translate(error: unknown): never {
  const name = (error as { name?: string }).name ?? '';
  const message = (error as Error).message ?? 'Identity provider error';
  const map: Record<string, () => DomainError> = {
    UsernameExistsException: () => new ConflictError('An account with this email already exists'),
    AliasExistsException: () => new ConflictError('An account with this email already exists'),
    InvalidPasswordException: () =>
      new ValidationError('The password does not meet the policy', [{ path: 'body.password', message }]),
    // The pool keeps a password history (PASSWORD_POLICY.passwordHistorySize): a reset to a recent password.
    PasswordHistoryPolicyViolationException: () =>
      new ValidationError('The password was used recently', [
        {
          path: 'body.password',
          message: `Choose a password other than your last ${PASSWORD_POLICY.passwordHistorySize}`,
        },
      ]),
    InvalidParameterException: () => new ValidationError(message),
    CodeMismatchException: () => new ValidationError('The code is not valid', [{ path: 'body.code', message: 'Invalid code' }]),
    ExpiredCodeException: () => new ValidationError('The code has expired', [{ path: 'body.code', message: 'Expired code' }]),
    EnableSoftwareTokenMFAException: () =>
      new ValidationError('The code is not valid', [{ path: 'body.code', message: 'Invalid code' }]),
    // Cognito's lockout after failed sign-ins says so only in the message; it lasts from a second, doubling, to 15 minutes.
    NotAuthorizedException: () =>
      /attempts exceeded/i.test(message)
        ? new TooManyRequestsError('Too many failed attempts, try again later', 60)
        : new UnauthenticatedError('Incorrect credentials or token'),
    UserNotFoundException: () => new UnauthenticatedError('Incorrect credentials or token'),
    UserNotConfirmedException: () => new ForbiddenError('Confirm your email address before signing in'),
    PasswordResetRequiredException: () => new ForbiddenError('A password reset is required'),
    LimitExceededException: () => new TooManyRequestsError('Too many attempts, try again later', 60),
    TooManyRequestsException: () => new TooManyRequestsError('Too many requests, try again later', 5),
    TooManyFailedAttemptsException: () => new TooManyRequestsError('Too many failed attempts, try again later', 60),
  };
  const mapped = map[name];
  if (mapped) throw mapped();
  throw error;
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    translate(error);
  }
}

const codeMismatch = () =>
  Object.assign(new Error('Invalid verification code provided, please try again.'), { name: 'CodeMismatchException' });

/**
 * A confirming step (of a sign-up, of a reset) answers an address that has nothing to confirm as a wrong code:
 * the steps before it answer the same whether the account exists, so this one may not tell either. Cognito does
 * so for an unknown user when the app client prevents user existence errors, but not for a sign-up already
 * confirmed (NotAuthorizedException), nor with that setting off: whatever it answers, the route's answer is one.
 */
const confirming = <T>(fn: () => Promise<T>): Promise<T> =>
  call(() =>
    fn().catch((error: unknown) => {
      const name = (error as { name?: string }).name;
      throw name === 'UserNotFoundException' || name === 'NotAuthorizedException' ? codeMismatch() : error;
    }),
  );

export const identityProvider = {
  signUp: (email: string, password: string, fullName?: string) =>
    call(async () => {
      const out = await cognito().send(
        new SignUpCommand({
          ClientId: clientId(),
          Username: email,
          Password: password,
          UserAttributes: [{ Name: 'email', Value: email }, ...(fullName ? [{ Name: 'name', Value: fullName }] : [])],
        }),
      );
      return { userId: out.UserSub!, confirmed: out.UserConfirmed ?? false };
    }),

  confirmSignUp: (email: string, code: string) =>
    confirming(() => cognito().send(new ConfirmSignUpCommand({ ClientId: clientId(), Username: email, ConfirmationCode: code }))),

  /** An account already confirmed gets the same answer as any other: nothing says it exists. */
  resendConfirmation: (email: string) =>
    call(async () => {
      try {
        await cognito().send(new ResendConfirmationCodeCommand({ ClientId: clientId(), Username: email }));
      } catch (error) {
        const { name, message } = error as { name?: string; message?: string };
        if (name === 'InvalidParameterException' && /already confirmed/i.test(message ?? '')) return;
        throw error;
      }
    }),

  signIn: (email: string, password: string): Promise<SignInResult> =>
    call(async () => {
      const out = await cognito().send(
        new InitiateAuthCommand({
          ClientId: clientId(),
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: email, PASSWORD: password },
        }),
      );
      if (out.AuthenticationResult) return { kind: 'tokens', tokens: toTokens(out.AuthenticationResult) };
      if (out.ChallengeName === 'SOFTWARE_TOKEN_MFA' && out.Session)
        return { kind: 'challenge', challenge: 'SOFTWARE_TOKEN_MFA', session: out.Session };
      throw new ForbiddenError(`Sign-in needs a step this API does not support: ${out.ChallengeName ?? 'unknown'}`);
    }),

  answerMfaChallenge: (email: string, session: string, code: string) =>
    call(async () => {
      const out = await cognito().send(
        new RespondToAuthChallengeCommand({
          ClientId: clientId(),
          ChallengeName: 'SOFTWARE_TOKEN_MFA',
          Session: session,
          ChallengeResponses: { USERNAME: email, SOFTWARE_TOKEN_MFA_CODE: code },
        }),
      );
      if (!out.AuthenticationResult) throw new UnauthenticatedError('The MFA challenge was not accepted');
      return toTokens(out.AuthenticationResult);
    }),

  refresh: (refreshToken: string) =>
    call(async () => {
      const out = await cognito().send(
        new InitiateAuthCommand({
          ClientId: clientId(),
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          AuthParameters: { REFRESH_TOKEN: refreshToken },
        }),
      );
      if (!out.AuthenticationResult) throw new UnauthenticatedError('The refresh token is not valid');
      return toTokens(out.AuthenticationResult);
    }),

  revoke: (refreshToken: string) =>
    call(() => cognito().send(new RevokeTokenCommand({ ClientId: clientId(), Token: refreshToken }))),

  forgotPassword: (email: string) =>
    call(() => cognito().send(new ForgotPasswordCommand({ ClientId: clientId(), Username: email }))),

  confirmForgotPassword: (email: string, code: string, password: string) =>
    confirming(() =>
      cognito().send(
        new ConfirmForgotPasswordCommand({ ClientId: clientId(), Username: email, ConfirmationCode: code, Password: password }),
      ),
    ),

  startTotpSetup: (accessToken: string) =>
    call(async () => {
      const out = await cognito().send(new AssociateSoftwareTokenCommand({ AccessToken: accessToken }));
      return out.SecretCode!;
    }),

  finishTotpSetup: (accessToken: string, code: string) =>
    call(async () => {
      const out = await cognito().send(
        new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: code, FriendlyDeviceName: 'authenticator' }),
      );
      if (out.Status !== 'SUCCESS')
        throw new ValidationError('The code is not valid', [{ path: 'body.code', message: 'Invalid code' }]);
      await cognito().send(
        new SetUserMFAPreferenceCommand({
          AccessToken: accessToken,
          SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
        }),
      );
    }),

  /** Whether sign-in asks this user for an authenticator code: what Cognito holds, not what our profile says. */
  totpEnabled: (accessToken: string) =>
    call(async () => {
      const out = await cognito().send(new GetUserCommand({ AccessToken: accessToken }));
      return (out.UserMFASettingList ?? []).includes('SOFTWARE_TOKEN_MFA');
    }),

  disableTotp: (accessToken: string) =>
    call(() =>
      cognito().send(
        new SetUserMFAPreferenceCommand({
          AccessToken: accessToken,
          SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false },
        }),
      ),
    ),

  /**
   * Ends every refresh token Cognito issued to the user, in one call (the user may sign in again):
   * a token held elsewhere stops working at Cognito itself, not only at our routes. `username` may be
   * the email (the pool signs in by email). The local stand-in serves it too (packages/local/src/cognito).
   */
  signOutEverywhere: (username: string) =>
    call(() => cognito().send(new AdminUserGlobalSignOutCommand({ UserPoolId: userPoolId(), Username: username }))),

  /** Signs a user out everywhere and stops new sign-ins (used by account deletion). */
  async disableEverywhere(username: string) {
    await call(() => cognito().send(new AdminDisableUserCommand({ UserPoolId: userPoolId(), Username: username })));
    await identityProvider.signOutEverywhere(username);
  },

  addToGroup: (username: string, group: string) =>
    call(() =>
      cognito().send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId(), Username: username, GroupName: group })),
    ),
};
