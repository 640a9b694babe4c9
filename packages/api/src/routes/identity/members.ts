import { defineRoute } from '@platform/http/route';
import { pageQuery } from '@platform/domain/shared/schemas';
import { memberParams, orgParams } from '@platform/domain/identity/schemas/common';
import { memberResponse, membersPage, transferOwnershipBody, updateMemberBody } from '@platform/domain/identity/schemas/members';

/** Members and ownership. */
const tag = 'Identity';

export const listMembers = defineRoute({
  id: 'listMembers',
  method: 'GET',
  path: '/v1/orgs/{orgId}/members',
  handler: 'identity/list-members',
  auth: 'principal',
  permission: 'members:read',
  tag,
  summary: 'Members and their roles',
  schemas: { params: orgParams, query: pageQuery, response: membersPage },
});
export const updateMember = defineRoute({
  id: 'updateMember',
  method: 'PATCH',
  path: '/v1/orgs/{orgId}/members/{userId}',
  handler: 'identity/update-member',
  auth: 'principal',
  permission: 'members:update',
  tag,
  summary: 'Change a member’s role, expiry or activity',
  errors: [409, 422],
  schemas: { params: memberParams, body: updateMemberBody, response: memberResponse },
});
export const removeMember = defineRoute({
  id: 'removeMember',
  method: 'DELETE',
  path: '/v1/orgs/{orgId}/members/{userId}',
  handler: 'identity/remove-member',
  auth: 'principal',
  permission: 'members:remove',
  tag,
  summary: 'Remove a member',
  successStatus: 204,
  errors: [409, 422],
  schemas: { params: memberParams },
});
export const transferOwnership = defineRoute({
  id: 'transferOwnership',
  method: 'POST',
  path: '/v1/orgs/{orgId}/transfer-ownership',
  handler: 'identity/transfer-ownership',
  auth: 'user',
  permission: 'members:transfer-ownership',
  tag,
  summary: 'Hand the organization to another member; you become an admin',
  successStatus: 204,
  errors: [409, 422],
  schemas: { params: orgParams, body: transferOwnershipBody },
});
