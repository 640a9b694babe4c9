import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { provisionUser } from '@platform/domain/identity/users';
import { traced } from '@platform/http/middleware/tracing';
import { logger } from '@platform/http/observability';

const SOCIAL = /^(google|facebook|signinwithapple)_(.+)$/i;

/**
 * Cognito post-confirmation trigger: creates the User, the personal organization and its
 * Owner membership. Cognito retries triggers; provisioning is idempotent, so a retry is a no-op.
 * A password reset also confirms an account that never confirmed its sign-up (trigger source
 * PostConfirmation_ConfirmForgotPassword): that account must be provisioned too, and for an
 * account provisioned long ago the same call changes nothing.
 */
const PROVISIONING_SOURCES = new Set(['PostConfirmation_ConfirmSignUp', 'PostConfirmation_ConfirmForgotPassword']);

export const handler = traced(async (event: PostConfirmationTriggerEvent) => {
  if (!PROVISIONING_SOURCES.has(event.triggerSource)) return event;
  const attributes = event.request.userAttributes;
  const social = SOCIAL.exec(event.userName);
  const provider = social?.[1]?.toLowerCase();
  const { created } = await provisionUser({
    userId: attributes.sub!,
    email: attributes.email!,
    emailVerified: attributes.email_verified === 'true' || Boolean(social),
    fullName: attributes.name,
    socialProvider: provider === 'signinwithapple' ? 'apple' : (provider as 'google' | 'facebook' | undefined),
    socialProviderId: social?.[2],
  });
  logger.info('User provisioned', { userId: attributes.sub, created });
  return event;
});
