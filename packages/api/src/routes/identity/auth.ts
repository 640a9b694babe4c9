import * as z from 'zod';
import { defineRoute } from '@platform/http/route';
import { cognitoRefusals } from './refusals.ts';
import {
  acceptedResponse,
  confirmForgotPasswordBody,
  confirmSignUpBody,
  emailBody,
  mfaChallengeBody,
  mfaCodeBody,
  mfaSetupResponse,
  mfaStatusResponse,
  refreshBody,
  signInBody,
  signInResponse,
  signUpBody,
  signUpResponse,
  tokensResponse,
} from '@platform/domain/identity/schemas/auth';

/** Sign-up, sign-in, tokens and MFA, over Cognito. */
export const signUp = defineRoute({
  id: 'signUp',
  method: 'POST',
  path: '/v1/auth/sign-up',
  handler: 'identity/sign-up',
  auth: 'public',
  tag: 'Auth',
  summary: 'Create an account; a verification code is emailed',
  successStatus: 201,
  errors: cognitoRefusals,
  schemas: { body: signUpBody, response: signUpResponse },
});
export const confirmSignUp = defineRoute({
  id: 'confirmSignUp',
  method: 'POST',
  path: '/v1/auth/confirm-sign-up',
  handler: 'identity/confirm-sign-up',
  auth: 'public',
  tag: 'Auth',
  summary: 'Confirm the email with its code; creates the profile and personal organization',
  errors: cognitoRefusals,
  schemas: { body: confirmSignUpBody, response: z.object({ confirmed: z.literal(true) }) },
});
export const resendCode = defineRoute({
  id: 'resendCode',
  method: 'POST',
  path: '/v1/auth/resend-code',
  handler: 'identity/resend-code',
  auth: 'public',
  tag: 'Auth',
  summary: 'Send the verification code again',
  successStatus: 202,
  errors: cognitoRefusals,
  schemas: { body: emailBody, response: acceptedResponse },
});
export const signIn = defineRoute({
  id: 'signIn',
  method: 'POST',
  path: '/v1/auth/sign-in',
  handler: 'identity/sign-in',
  auth: 'public',
  tag: 'Auth',
  summary: 'Sign in with email and password: tokens, or an MFA challenge',
  errors: cognitoRefusals,
  schemas: { body: signInBody, response: signInResponse },
});
export const answerMfaChallenge = defineRoute({
  id: 'answerMfaChallenge',
  method: 'POST',
  path: '/v1/auth/sign-in/mfa',
  handler: 'identity/answer-mfa-challenge',
  auth: 'public',
  tag: 'Auth',
  summary: 'Finish a sign-in that asked for an authenticator code',
  errors: cognitoRefusals,
  schemas: { body: mfaChallengeBody, response: tokensResponse },
});
export const refresh = defineRoute({
  id: 'refresh',
  method: 'POST',
  path: '/v1/auth/refresh',
  handler: 'identity/refresh',
  auth: 'public',
  tag: 'Auth',
  summary: 'New access and id tokens for a refresh token',
  errors: cognitoRefusals,
  schemas: { body: refreshBody, response: tokensResponse },
});
export const signOut = defineRoute({
  id: 'signOut',
  method: 'POST',
  path: '/v1/auth/sign-out',
  handler: 'identity/sign-out',
  auth: 'public',
  tag: 'Auth',
  summary: 'End this device’s session: its refresh token stops working',
  successStatus: 204,
  errors: cognitoRefusals,
  schemas: { body: refreshBody },
});
export const forgotPassword = defineRoute({
  id: 'forgotPassword',
  method: 'POST',
  path: '/v1/auth/forgot-password',
  handler: 'identity/forgot-password',
  auth: 'public',
  tag: 'Auth',
  summary: 'Email a password reset code (answers the same whether or not the account exists)',
  successStatus: 202,
  errors: cognitoRefusals,
  schemas: { body: emailBody, response: acceptedResponse },
});
export const confirmForgotPassword = defineRoute({
  id: 'confirmForgotPassword',
  method: 'POST',
  path: '/v1/auth/confirm-forgot-password',
  handler: 'identity/confirm-forgot-password',
  auth: 'public',
  tag: 'Auth',
  summary: 'Set a new password with the emailed code',
  successStatus: 204,
  errors: cognitoRefusals,
  schemas: { body: confirmForgotPasswordBody },
});
export const mfaSetup = defineRoute({
  id: 'mfaSetup',
  method: 'POST',
  path: '/v1/auth/mfa/setup',
  handler: 'identity/mfa-setup',
  auth: 'user',
  refusesDeletedAccount: true,
  tag: 'Auth',
  summary: 'Start TOTP set-up: a secret for an authenticator app',
  errors: [...cognitoRefusals, 404],
  schemas: { response: mfaSetupResponse },
});
export const mfaVerify = defineRoute({
  id: 'mfaVerify',
  method: 'POST',
  path: '/v1/auth/mfa/verify',
  handler: 'identity/mfa-verify',
  auth: 'user',
  tag: 'Auth',
  summary: 'Finish TOTP set-up with a code from the app; sign-ins then ask for one',
  errors: cognitoRefusals,
  schemas: { body: mfaCodeBody, response: mfaStatusResponse },
});
export const mfaDisable = defineRoute({
  id: 'mfaDisable',
  method: 'POST',
  path: '/v1/auth/mfa/disable',
  handler: 'identity/mfa-disable',
  auth: 'user',
  tag: 'Auth',
  summary: 'Stop asking for an authenticator code at sign-in',
  errors: cognitoRefusals,
  schemas: { response: mfaStatusResponse },
});
