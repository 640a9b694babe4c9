import * as z from 'zod';
import { email } from '../../shared/schemas.ts';
import { userId, password, code, name } from './common.ts';

/** Sign-up, sign-in, tokens and MFA. */
export const signUpBody = z.object({ email, password, fullName: name.optional() });
export const signUpResponse = z.object({ userId: z.string(), confirmed: z.boolean(), delivery: z.literal('email') });
export const confirmSignUpBody = z.object({ email, code });
export const emailBody = z.object({ email });
export const signInBody = z.object({ email, password: z.string().min(1).max(256) });
export const mfaChallengeBody = z.object({ email, session: z.string().min(20).max(4096), code });
export const refreshBody = z.object({ refreshToken: z.string().min(20).max(8192) });
export const confirmForgotPasswordBody = z.object({ email, code, password });
export const mfaCodeBody = z.object({ code });

export const tokensResponse = z.object({
  accessToken: z.string(),
  idToken: z.string(),
  refreshToken: z.string().optional(),
  expiresIn: z.number(),
  tokenType: z.literal('Bearer'),
  sessionId: z.string().optional(),
});
export const signInResponse = z.union([
  tokensResponse,
  z.object({ challenge: z.literal('SOFTWARE_TOKEN_MFA'), session: z.string() }),
]);
export const mfaSetupResponse = z.object({ secretCode: z.string(), otpauthUri: z.string() });
export const mfaStatusResponse = z.object({ mfaEnabled: z.boolean() });
export const acceptedResponse = z.object({ status: z.literal('accepted') });
