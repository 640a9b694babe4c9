import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { logger } from '@platform/http/observability';
import { lazy } from '@platform/domain/shared/lazy';

const loadUsers = lazy(() => import('@platform/domain/identity/users'));

const SOCIAL = /^(google|facebook|signinwithapple)_(.+)$/i;

/**
 * Cognito post-confirmation trigger: creates the User, the personal organization and its
 * Owner membership. Cognito retries triggers; provisioning is idempotent, so a retry is a no-op.
 */
export const handler = async (event: PostConfirmationTriggerEvent) => {
  if (event.triggerSource !== 'PostConfirmation_ConfirmSignUp') return event;
  const attributes = event.request.userAttributes;
  const social = SOCIAL.exec(event.userName);
  const provider = social?.[1]?.toLowerCase();
  const { provisionUser } = await loadUsers();
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
};
