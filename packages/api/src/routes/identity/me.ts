import { defineRoute } from '@platform/http/route';
import { cognitoRefusals } from './refusals.ts';
import { pageQuery } from '@platform/domain/shared/schemas';
import { orgParams, sessionParams } from '@platform/domain/identity/schemas/common';
import { invitationsPage } from '@platform/domain/identity/schemas/invitations';
import { orgsPage } from '@platform/domain/identity/schemas/organizations';
import { sessionsPage, updateMeBody, userResponse } from '@platform/domain/identity/schemas/users';

/** The signed-in user: profile, organizations, devices, invitations. */
export const getMe = defineRoute({
  id: 'getMe',
  method: 'GET',
  path: '/v1/me',
  handler: 'identity/get-me',
  auth: 'user',
  refusesDeletedAccount: true,
  tag: 'Me',
  summary: 'Your profile',
  // 404: the profile is gone (the account was deleted while its token lives).
  errors: [404],
  schemas: { response: userResponse },
});
export const updateMe = defineRoute({
  id: 'updateMe',
  method: 'PATCH',
  path: '/v1/me',
  handler: 'identity/update-me',
  auth: 'user',
  refusesDeletedAccount: true,
  tag: 'Me',
  summary: 'Change your profile',
  errors: [404, 409],
  schemas: { body: updateMeBody, response: userResponse },
});
export const deleteMe = defineRoute({
  id: 'deleteMe',
  method: 'DELETE',
  path: '/v1/me',
  handler: 'identity/delete-me',
  auth: 'user',
  refusesDeletedAccount: true,
  // The personal organization goes with the account: its Stripe subscription is cancelled (502: Stripe failed).
  callsStripe: true,
  tag: 'Me',
  summary: 'Delete your account (soft delete), its personal organization with its billing, and sign out everywhere',
  successStatus: 204,
  errors: [...cognitoRefusals, 404, 502],
  schemas: {},
});
export const listMyOrgs = defineRoute({
  id: 'listMyOrgs',
  method: 'GET',
  path: '/v1/me/orgs',
  handler: 'identity/list-my-orgs',
  auth: 'user',
  tag: 'Me',
  summary: 'The organizations you belong to, with your role',
  schemas: { query: pageQuery, response: orgsPage },
});
export const leaveOrg = defineRoute({
  id: 'leaveOrg',
  method: 'DELETE',
  path: '/v1/me/orgs/{orgId}',
  handler: 'identity/leave-org',
  auth: 'user',
  tag: 'Me',
  summary: 'Leave an organization',
  successStatus: 204,
  errors: [409, 422],
  schemas: { params: orgParams },
});
export const listMySessions = defineRoute({
  id: 'listMySessions',
  method: 'GET',
  path: '/v1/me/sessions',
  handler: 'identity/list-my-sessions',
  auth: 'user',
  // The sessions' rule reads the profile anyway (`sessionsValidAfter`), and refuses a deleted account there.
  refusesDeletedAccount: true,
  tag: 'Me',
  summary: 'Your signed-in devices',
  schemas: { query: pageQuery, response: sessionsPage },
});
export const revokeMySession = defineRoute({
  id: 'revokeMySession',
  method: 'DELETE',
  path: '/v1/me/sessions/{sessionId}',
  handler: 'identity/revoke-my-session',
  auth: 'user',
  // The sessions' rule reads the profile anyway (`sessionsValidAfter`), and refuses a deleted account there.
  refusesDeletedAccount: true,
  tag: 'Me',
  summary: 'Sign a device out: its refresh token stops working',
  successStatus: 204,
  errors: cognitoRefusals,
  schemas: { params: sessionParams },
});
export const listMyInvitations = defineRoute({
  id: 'listMyInvitations',
  method: 'GET',
  path: '/v1/me/invitations',
  handler: 'identity/list-my-invitations',
  auth: 'user',
  refusesDeletedAccount: true,
  tag: 'Me',
  summary: 'Invitations waiting for your answer',
  // 404: the profile is gone (the account was deleted while its token lives).
  errors: [404],
  schemas: { query: pageQuery, response: invitationsPage },
});
