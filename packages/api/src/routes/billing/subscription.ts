import { defineRoute } from '@platform/http/route';
import { orgParams } from '@platform/domain/identity/schemas/common';
import { changePlanBody, subscriptionResponse } from '@platform/domain/billing/schemas';

/** Changes of an organization's subscription, by its owners and admins (see billing/subscriptions.ts for the rules). */
const tag = 'Billing';

export const changeSubscriptionPlan = defineRoute({
  id: 'changeSubscriptionPlan',
  method: 'PUT',
  path: '/v1/orgs/{orgId}/subscription',
  handler: 'billing/change-subscription-plan',
  auth: 'principal',
  permission: 'billing:manage',
  callsStripe: true,
  tag,
  summary:
    'Change plan: a more expensive one now (prorated credits; needs the Stripe subscription on file, else 402 and checkout, or a first trial), a cheaper one at the period end, Free by cancelling; a plan sold by contract, platform admins only, now and billed outside',
  // 502: Stripe failed or refused.
  errors: [402, 409, 422, 502],
  schemas: { params: orgParams, body: changePlanBody, response: subscriptionResponse },
});
export const cancelSubscription = defineRoute({
  id: 'cancelSubscription',
  method: 'POST',
  path: '/v1/orgs/{orgId}/subscription/cancel',
  handler: 'billing/cancel-subscription',
  auth: 'principal',
  permission: 'billing:manage',
  callsStripe: true,
  tag,
  summary: 'Cancel at the end of the period: the plan stays until then, then the organization returns to Free',
  // 502: Stripe failed or refused.
  errors: [409, 422, 502],
  schemas: { params: orgParams, response: subscriptionResponse },
});
export const resumeSubscription = defineRoute({
  id: 'resumeSubscription',
  method: 'POST',
  path: '/v1/orgs/{orgId}/subscription/resume',
  handler: 'billing/resume-subscription',
  auth: 'principal',
  permission: 'billing:manage',
  callsStripe: true,
  tag,
  summary: 'Take back a cancellation or a scheduled downgrade before the period ends',
  // 502: Stripe failed or refused.
  errors: [409, 502],
  schemas: { params: orgParams, response: subscriptionResponse },
});
