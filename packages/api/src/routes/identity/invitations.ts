import { defineRoute } from '@platform/http/route';
import { invitationParams, orgInvitationParams, orgParams } from '@platform/domain/identity/schemas/common';
import {
  acceptInvitationResponse,
  createInvitationBody,
  invitationQuery,
  invitationResponse,
  invitationsPage,
} from '@platform/domain/identity/schemas/invitations';

/** Invitations by email. */
const tag = 'Identity';

export const createInvitation = defineRoute({
  id: 'createInvitation',
  method: 'POST',
  path: '/v1/orgs/{orgId}/invitations',
  handler: 'identity/create-invitation',
  auth: 'principal',
  permission: 'invitations:create',
  tag,
  summary: 'Invite someone by email with a role',
  successStatus: 201,
  idempotent: true,
  schemas: { params: orgParams, body: createInvitationBody, response: invitationResponse },
});
export const listInvitations = defineRoute({
  id: 'listInvitations',
  method: 'GET',
  path: '/v1/orgs/{orgId}/invitations',
  handler: 'identity/list-invitations',
  auth: 'principal',
  permission: 'invitations:read',
  tag,
  summary: 'Invitations of the organization',
  schemas: { params: orgParams, query: invitationQuery, response: invitationsPage },
});
export const revokeInvitation = defineRoute({
  id: 'revokeInvitation',
  method: 'DELETE',
  path: '/v1/orgs/{orgId}/invitations/{invitationId}',
  handler: 'identity/revoke-invitation',
  auth: 'principal',
  permission: 'invitations:revoke',
  tag,
  summary: 'Withdraw a pending invitation',
  successStatus: 204,
  errors: [409],
  schemas: { params: orgInvitationParams },
});
export const acceptInvitation = defineRoute({
  id: 'acceptInvitation',
  method: 'POST',
  path: '/v1/invitations/{invitationId}/accept',
  handler: 'identity/accept-invitation',
  auth: 'user',
  refusesDeletedAccount: true,
  tag,
  summary: 'Accept an invitation sent to your email',
  // 410: the invitation expired.
  errors: [409, 410],
  schemas: { params: invitationParams, response: acceptInvitationResponse },
});
export const declineInvitation = defineRoute({
  id: 'declineInvitation',
  method: 'POST',
  path: '/v1/invitations/{invitationId}/decline',
  handler: 'identity/decline-invitation',
  auth: 'user',
  refusesDeletedAccount: true,
  tag,
  summary: 'Decline an invitation sent to your email',
  successStatus: 204,
  // 410: the invitation expired.
  errors: [409, 410],
  schemas: { params: invitationParams },
});
