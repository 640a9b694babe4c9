import { defineRoute } from '@platform/http/route';
import { orgParams } from '@platform/domain/identity/schemas/common';
import { limitOverrideBody, limitsResponse } from '@platform/domain/billing/schemas';
import { wholeListQuery } from '@platform/domain/shared/schemas';

/** Usage limits of an organization, and their overrides. */
const tag = 'Billing';

export const getLimits = defineRoute({
  id: 'getLimits',
  method: 'GET',
  path: '/v1/orgs/{orgId}/limits',
  handler: 'billing/get-limits',
  auth: 'principal',
  permission: 'billing:read',
  tag,
  summary: 'Each usage limit with what is used of it in the current window',
  schemas: { params: orgParams, query: wholeListQuery(), response: limitsResponse },
});
export const setLimitOverride = defineRoute({
  id: 'setLimitOverride',
  method: 'PUT',
  path: '/v1/admin/orgs/{orgId}/limits',
  handler: 'billing/set-limit-override',
  auth: 'admin',
  tag,
  summary:
    'Platform admins: set (or, with no window, remove) a limit for the organization, one of its members or one of its API clients',
  // 422: the member or API client is not the organization's.
  errors: [409, 422],
  schemas: { params: orgParams, body: limitOverrideBody, response: limitsResponse },
});
