import { defineRoute } from '@platform/http/route';
import { wholeListQuery } from '@platform/domain/shared/schemas';
import { orgParams } from '@platform/domain/identity/schemas/common';
import {
  createRuleBody,
  orgRuleParams,
  patchRuleBody,
  ruleParams,
  ruleResponse,
  rulesList,
} from '@platform/domain/hub/schemas/routing-rules';

/** Routing rules of an organization, and the global ones of the platform. */
const tag = 'Model hub';

export const createRoutingRule = defineRoute({
  id: 'createRoutingRule',
  method: 'POST',
  path: '/v1/orgs/{orgId}/routing-rules',
  handler: 'hub/create-routing-rule',
  auth: 'principal',
  permission: 'routing:manage',
  tag,
  summary: 'Add a routing rule of the organization: conditions, weighted targets, fallbacks',
  successStatus: 201,
  idempotent: true,
  schemas: { params: orgParams, body: createRuleBody, response: ruleResponse },
});
export const listRoutingRules = defineRoute({
  id: 'listRoutingRules',
  method: 'GET',
  path: '/v1/orgs/{orgId}/routing-rules',
  handler: 'hub/list-routing-rules',
  auth: 'principal',
  permission: 'routing:read',
  tag,
  summary: 'The organization’s routing rules, in the order they are tried',
  schemas: { params: orgParams, query: wholeListQuery(), response: rulesList },
});
export const getRoutingRule = defineRoute({
  id: 'getRoutingRule',
  method: 'GET',
  path: '/v1/orgs/{orgId}/routing-rules/{ruleId}',
  handler: 'hub/get-routing-rule',
  auth: 'principal',
  permission: 'routing:read',
  tag,
  summary: 'One routing rule of the organization',
  schemas: { params: orgRuleParams, response: ruleResponse },
});
export const updateRoutingRule = defineRoute({
  id: 'updateRoutingRule',
  method: 'PATCH',
  path: '/v1/orgs/{orgId}/routing-rules/{ruleId}',
  handler: 'hub/update-routing-rule',
  auth: 'principal',
  permission: 'routing:manage',
  tag,
  summary: 'Change a routing rule of the organization',
  errors: [409],
  schemas: { params: orgRuleParams, body: patchRuleBody, response: ruleResponse },
});
export const deleteRoutingRule = defineRoute({
  id: 'deleteRoutingRule',
  method: 'DELETE',
  path: '/v1/orgs/{orgId}/routing-rules/{ruleId}',
  handler: 'hub/delete-routing-rule',
  auth: 'principal',
  permission: 'routing:manage',
  tag,
  summary: 'Delete a routing rule of the organization',
  successStatus: 204,
  errors: [409],
  schemas: { params: orgRuleParams },
});

export const createGlobalRoutingRule = defineRoute({
  id: 'createGlobalRoutingRule',
  method: 'POST',
  path: '/v1/admin/routing-rules',
  handler: 'hub/create-global-routing-rule',
  auth: 'admin',
  tag,
  summary: 'Platform admins: add a global routing rule (tried after every organization’s own)',
  successStatus: 201,
  idempotent: true,
  schemas: { body: createRuleBody, response: ruleResponse },
});
export const listGlobalRoutingRules = defineRoute({
  id: 'listGlobalRoutingRules',
  method: 'GET',
  path: '/v1/admin/routing-rules',
  handler: 'hub/list-global-routing-rules',
  auth: 'admin',
  tag,
  summary: 'Platform admins: the global routing rules, in the order they are tried',
  schemas: { query: wholeListQuery(), response: rulesList },
});
export const getGlobalRoutingRule = defineRoute({
  id: 'getGlobalRoutingRule',
  method: 'GET',
  path: '/v1/admin/routing-rules/{ruleId}',
  handler: 'hub/get-global-routing-rule',
  auth: 'admin',
  tag,
  summary: 'Platform admins: one global routing rule',
  schemas: { params: ruleParams, response: ruleResponse },
});
export const updateGlobalRoutingRule = defineRoute({
  id: 'updateGlobalRoutingRule',
  method: 'PATCH',
  path: '/v1/admin/routing-rules/{ruleId}',
  handler: 'hub/update-global-routing-rule',
  auth: 'admin',
  tag,
  summary: 'Platform admins: change a global routing rule',
  errors: [409],
  schemas: { params: ruleParams, body: patchRuleBody, response: ruleResponse },
});
export const deleteGlobalRoutingRule = defineRoute({
  id: 'deleteGlobalRoutingRule',
  method: 'DELETE',
  path: '/v1/admin/routing-rules/{ruleId}',
  handler: 'hub/delete-global-routing-rule',
  auth: 'admin',
  tag,
  summary: 'Platform admins: delete a global routing rule',
  successStatus: 204,
  errors: [409],
  schemas: { params: ruleParams },
});
