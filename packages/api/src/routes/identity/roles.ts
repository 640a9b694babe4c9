import { defineRoute } from '@platform/http/route';
import { wholeListQuery } from '@platform/domain/shared/schemas';
import { orgParams, roleParams } from '@platform/domain/identity/schemas/common';
import { createRoleBody, roleResponse, rolesList, updateRoleBody } from '@platform/domain/identity/schemas/roles';

/** Built-in and custom roles. */
const tag = 'Identity';

export const listRoles = defineRoute({
  id: 'listRoles',
  method: 'GET',
  path: '/v1/orgs/{orgId}/roles',
  handler: 'identity/list-roles',
  auth: 'principal',
  permission: 'roles:read',
  tag,
  summary: 'Built-in and custom roles with their permissions',
  schemas: { params: orgParams, query: wholeListQuery(), response: rolesList },
});
export const createRole = defineRoute({
  id: 'createRole',
  method: 'POST',
  path: '/v1/orgs/{orgId}/roles',
  handler: 'identity/create-role',
  auth: 'principal',
  permission: 'roles:manage',
  tag,
  summary: 'Define a custom role',
  successStatus: 201,
  idempotent: true,
  schemas: { params: orgParams, body: createRoleBody, response: roleResponse },
});
export const updateRole = defineRoute({
  id: 'updateRole',
  method: 'PATCH',
  path: '/v1/orgs/{orgId}/roles/{roleId}',
  handler: 'identity/update-role',
  auth: 'principal',
  permission: 'roles:manage',
  tag,
  summary: 'Change a custom role',
  errors: [409],
  schemas: { params: roleParams, body: updateRoleBody, response: roleResponse },
});
export const deleteRole = defineRoute({
  id: 'deleteRole',
  method: 'DELETE',
  path: '/v1/orgs/{orgId}/roles/{roleId}',
  handler: 'identity/delete-role',
  auth: 'principal',
  permission: 'roles:manage',
  tag,
  summary: 'Delete a custom role nobody holds',
  successStatus: 204,
  errors: [409],
  schemas: { params: roleParams },
});
