/**
 * The user pool's password policy, in one place: the API's schema (and so /openapi.json) and the local Cognito
 * (packages/local/src/cognito/pool.ts) read it, and the deployed pool (infra/auth-stack.ts) must hold the same, so
 * that no password passes one of them and is refused by another. The field names are the CDK's PasswordPolicy's.
 */
export const PASSWORD_POLICY = {
  minLength: 12,
  requireLowercase: true,
  requireUppercase: true,
  requireDigits: true,
  requireSymbols: true,
  /** A new password may not be any of the user's last 5 (Cognito's feature plans Essentials and Plus). */
  passwordHistorySize: 5,
} as const;

/** Cognito's own limit on a password's length. */
export const PASSWORD_MAX_LENGTH = 256;

/** The special characters Cognito counts as symbols (a space too, when it is neither first nor last). */
export const PASSWORD_SYMBOLS = /[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+\- ]/;

/** Each character class the policy requires, with the words Cognito uses when a password has none. */
export const PASSWORD_CHARACTER_RULES = [
  { required: PASSWORD_POLICY.requireUppercase, pattern: /[A-Z]/, message: 'Password must have uppercase characters' },
  { required: PASSWORD_POLICY.requireLowercase, pattern: /[a-z]/, message: 'Password must have lowercase characters' },
  { required: PASSWORD_POLICY.requireDigits, pattern: /[0-9]/, message: 'Password must have numeric characters' },
  { required: PASSWORD_POLICY.requireSymbols, pattern: PASSWORD_SYMBOLS, message: 'Password must have symbol characters' },
] as const;
