import { defineRoute } from '@platform/http/route';
import { pageQuery } from '@platform/domain/shared/schemas';
import { orgParams } from '@platform/domain/identity/schemas/common';
import { createOrgBody, orgResponse, orgsPage, updateOrgBody } from '@platform/domain/identity/schemas/organizations';

/** Organizations. */
const tag = 'Identity';

export const createOrg = defineRoute({
  id: 'createOrg',
  method: 'POST',
  path: '/v1/orgs',
  handler: 'identity/create-org',
  auth: 'user',
  refusesDeletedAccount: true,
  tag,
  summary: 'Create a team or enterprise organization; you become its owner',
  successStatus: 201,
  idempotent: true,
  errors: [404],
  schemas: { body: createOrgBody, response: orgResponse },
});
export const listOrgs = defineRoute({
  id: 'listOrgs',
  method: 'GET',
  path: '/v1/orgs',
  handler: 'identity/list-my-orgs',
  auth: 'user',
  tag,
  summary: 'The organizations you belong to',
  schemas: { query: pageQuery, response: orgsPage },
});
export const getOrg = defineRoute({
  id: 'getOrg',
  method: 'GET',
  path: '/v1/orgs/{orgId}',
  handler: 'identity/get-org',
  auth: 'principal',
  permission: 'org:read',
  tag,
  summary: 'An organization',
  schemas: { params: orgParams, response: orgResponse },
});
export const updateOrg = defineRoute({
  id: 'updateOrg',
  method: 'PATCH',
  path: '/v1/orgs/{orgId}',
  handler: 'identity/update-org',
  auth: 'principal',
  permission: 'org:update',
  tag,
  summary: 'Rename, change slug, type or key strategy',
  errors: [409, 422],
  schemas: { params: orgParams, body: updateOrgBody, response: orgResponse },
});
export const deleteOrg = defineRoute({
  id: 'deleteOrg',
  method: 'DELETE',
  path: '/v1/orgs/{orgId}',
  handler: 'identity/delete-org',
  auth: 'user',
  permission: 'org:delete',
  callsStripe: true,
  tag,
  summary: 'Delete a team organization (soft delete; the slug is released; a Stripe subscription is cancelled)',
  successStatus: 204,
  // 502: Stripe failed to cancel the subscription (nothing was deleted).
  errors: [409, 422, 502],
  schemas: { params: orgParams },
});
