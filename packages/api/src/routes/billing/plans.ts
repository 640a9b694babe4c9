import { defineRoute } from '@platform/http/route';
import { wholeListQuery } from '@platform/domain/shared/schemas';
import { orgParams } from '@platform/domain/identity/schemas/common';
import { planParams, planResponse, plansList, savePlanBody, subscriptionResponse } from '@platform/domain/billing/schemas';

/** Plans and the subscription of an organization. */
const tag = 'Billing';

export const listPlans = defineRoute({
  id: 'listPlans',
  method: 'GET',
  path: '/v1/plans',
  handler: 'billing/list-plans',
  auth: 'public',
  tag,
  summary: 'The public plans: monthly credits, limits, price',
  schemas: { query: wholeListQuery(), response: plansList },
});
export const savePlan = defineRoute({
  id: 'savePlan',
  method: 'PUT',
  path: '/v1/admin/plans/{planId}',
  handler: 'billing/save-plan',
  auth: 'admin',
  tag,
  summary: 'Platform admins: change a plan (or add one)',
  errors: [409],
  schemas: { params: planParams, body: savePlanBody, response: planResponse },
});
export const getSubscription = defineRoute({
  id: 'getSubscription',
  method: 'GET',
  path: '/v1/orgs/{orgId}/subscription',
  handler: 'billing/get-subscription',
  auth: 'principal',
  permission: 'billing:read',
  tag,
  summary: 'The organization’s plan, status and current period',
  schemas: { params: orgParams, response: subscriptionResponse },
});
