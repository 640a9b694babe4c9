import * as z from 'zod';
import { defineRoute } from '@platform/http/route';
import * as s from '@platform/domain/identity/schemas';

const tag = 'Identity';

export const signUp = defineRoute({
  id: 'signUp', method: 'POST', path: '/v1/auth/sign-up', handler: 'identity/sign-up', auth: 'public', tag: 'Auth',
  summary: 'Create an account; a verification code is emailed', successStatus: 201,
  schemas: { body: s.signUpBody, response: s.signUpResponse },
});
export const confirmSignUp = defineRoute({
  id: 'confirmSignUp', method: 'POST', path: '/v1/auth/confirm-sign-up', handler: 'identity/confirm-sign-up', auth: 'public', tag: 'Auth',
  summary: 'Confirm the email with its code; creates the profile and personal organization',
  schemas: { body: s.confirmSignUpBody, response: z.object({ confirmed: z.literal(true) }) },
});
export const resendCode = defineRoute({
  id: 'resendCode', method: 'POST', path: '/v1/auth/resend-code', handler: 'identity/resend-code', auth: 'public', tag: 'Auth',
  summary: 'Send the verification code again', successStatus: 202,
  schemas: { body: s.emailBody, response: s.acceptedResponse },
});
export const signIn = defineRoute({
  id: 'signIn', method: 'POST', path: '/v1/auth/sign-in', handler: 'identity/sign-in', auth: 'public', tag: 'Auth',
  summary: 'Sign in with email and password: tokens, or an MFA challenge',
  schemas: { body: s.signInBody, response: s.signInResponse },
});
export const answerMfaChallenge = defineRoute({
  id: 'answerMfaChallenge', method: 'POST', path: '/v1/auth/sign-in/mfa', handler: 'identity/answer-mfa-challenge', auth: 'public', tag: 'Auth',
  summary: 'Finish a sign-in that asked for an authenticator code',
  schemas: { body: s.mfaChallengeBody, response: s.tokensResponse },
});
export const refresh = defineRoute({
  id: 'refresh', method: 'POST', path: '/v1/auth/refresh', handler: 'identity/refresh', auth: 'public', tag: 'Auth',
  summary: 'New access and id tokens for a refresh token',
  schemas: { body: s.refreshBody, response: s.tokensResponse },
});
export const signOut = defineRoute({
  id: 'signOut', method: 'POST', path: '/v1/auth/sign-out', handler: 'identity/sign-out', auth: 'public', tag: 'Auth',
  summary: 'End this device’s session: its refresh token stops working', successStatus: 204,
  schemas: { body: s.refreshBody },
});
export const forgotPassword = defineRoute({
  id: 'forgotPassword', method: 'POST', path: '/v1/auth/forgot-password', handler: 'identity/forgot-password', auth: 'public', tag: 'Auth',
  summary: 'Email a password reset code (answers the same whether or not the account exists)', successStatus: 202,
  schemas: { body: s.emailBody, response: s.acceptedResponse },
});
export const confirmForgotPassword = defineRoute({
  id: 'confirmForgotPassword', method: 'POST', path: '/v1/auth/confirm-forgot-password', handler: 'identity/confirm-forgot-password', auth: 'public', tag: 'Auth',
  summary: 'Set a new password with the emailed code', successStatus: 204,
  schemas: { body: s.confirmForgotPasswordBody },
});
export const mfaSetup = defineRoute({
  id: 'mfaSetup', method: 'POST', path: '/v1/auth/mfa/setup', handler: 'identity/mfa-setup', auth: 'user', tag: 'Auth',
  summary: 'Start TOTP set-up: a secret for an authenticator app',
  schemas: { response: s.mfaSetupResponse },
});
export const mfaVerify = defineRoute({
  id: 'mfaVerify', method: 'POST', path: '/v1/auth/mfa/verify', handler: 'identity/mfa-verify', auth: 'user', tag: 'Auth',
  summary: 'Finish TOTP set-up with a code from the app; sign-ins then ask for one',
  schemas: { body: s.mfaCodeBody, response: s.mfaStatusResponse },
});
export const mfaDisable = defineRoute({
  id: 'mfaDisable', method: 'POST', path: '/v1/auth/mfa/disable', handler: 'identity/mfa-disable', auth: 'user', tag: 'Auth',
  summary: 'Stop asking for an authenticator code at sign-in',
  schemas: { response: s.mfaStatusResponse },
});

export const getMe = defineRoute({
  id: 'getMe', method: 'GET', path: '/v1/me', handler: 'identity/get-me', auth: 'user', tag: 'Me',
  summary: 'Your profile', schemas: { response: s.userResponse },
});
export const updateMe = defineRoute({
  id: 'updateMe', method: 'PATCH', path: '/v1/me', handler: 'identity/update-me', auth: 'user', tag: 'Me',
  summary: 'Change your profile', schemas: { body: s.updateMeBody, response: s.userResponse },
});
export const deleteMe = defineRoute({
  id: 'deleteMe', method: 'DELETE', path: '/v1/me', handler: 'identity/delete-me', auth: 'user', tag: 'Me',
  summary: 'Delete your account (soft delete) and sign out everywhere', successStatus: 204, schemas: {},
});
export const listMyOrgs = defineRoute({
  id: 'listMyOrgs', method: 'GET', path: '/v1/me/orgs', handler: 'identity/list-my-orgs', auth: 'user', tag: 'Me',
  summary: 'The organizations you belong to, with your role', schemas: { query: s.pageQuery, response: s.orgsPage },
});
export const leaveOrg = defineRoute({
  id: 'leaveOrg', method: 'DELETE', path: '/v1/me/orgs/{orgId}', handler: 'identity/leave-org', auth: 'user', tag: 'Me',
  summary: 'Leave an organization', successStatus: 204, schemas: { params: s.orgParams },
});
export const listMySessions = defineRoute({
  id: 'listMySessions', method: 'GET', path: '/v1/me/sessions', handler: 'identity/list-my-sessions', auth: 'user', tag: 'Me',
  summary: 'Your signed-in devices', schemas: { query: s.pageQuery, response: s.sessionsPage },
});
export const revokeMySession = defineRoute({
  id: 'revokeMySession', method: 'DELETE', path: '/v1/me/sessions/{sessionId}', handler: 'identity/revoke-my-session', auth: 'user', tag: 'Me',
  summary: 'Sign a device out: its refresh token stops working', successStatus: 204, schemas: { params: s.sessionParams },
});
export const listMyInvitations = defineRoute({
  id: 'listMyInvitations', method: 'GET', path: '/v1/me/invitations', handler: 'identity/list-my-invitations', auth: 'user', tag: 'Me',
  summary: 'Invitations waiting for your answer', schemas: { response: s.invitationsPage },
});

export const createOrg = defineRoute({
  id: 'createOrg', method: 'POST', path: '/v1/orgs', handler: 'identity/create-org', auth: 'user', tag,
  summary: 'Create a team or enterprise organization; you become its owner', successStatus: 201, idempotent: true,
  schemas: { body: s.createOrgBody, response: s.orgResponse },
});
export const listOrgs = defineRoute({
  id: 'listOrgs', method: 'GET', path: '/v1/orgs', handler: 'identity/list-my-orgs', auth: 'user', tag,
  summary: 'The organizations you belong to', schemas: { query: s.pageQuery, response: s.orgsPage },
});
export const getOrg = defineRoute({
  id: 'getOrg', method: 'GET', path: '/v1/orgs/{orgId}', handler: 'identity/get-org', auth: 'principal', permission: 'org:read', tag,
  summary: 'An organization', schemas: { params: s.orgParams, response: s.orgResponse },
});
export const updateOrg = defineRoute({
  id: 'updateOrg', method: 'PATCH', path: '/v1/orgs/{orgId}', handler: 'identity/update-org', auth: 'principal', permission: 'org:update', tag,
  summary: 'Rename, change slug, type or key strategy', schemas: { params: s.orgParams, body: s.updateOrgBody, response: s.orgResponse },
});
export const deleteOrg = defineRoute({
  id: 'deleteOrg', method: 'DELETE', path: '/v1/orgs/{orgId}', handler: 'identity/delete-org', auth: 'user', permission: 'org:delete', tag,
  summary: 'Delete a team organization (soft delete; the slug is released)', successStatus: 204, schemas: { params: s.orgParams },
});
export const listMembers = defineRoute({
  id: 'listMembers', method: 'GET', path: '/v1/orgs/{orgId}/members', handler: 'identity/list-members', auth: 'principal', permission: 'members:read', tag,
  summary: 'Members and their roles', schemas: { params: s.orgParams, query: s.pageQuery, response: s.membersPage },
});
export const updateMember = defineRoute({
  id: 'updateMember', method: 'PATCH', path: '/v1/orgs/{orgId}/members/{userId}', handler: 'identity/update-member', auth: 'principal', permission: 'members:update', tag,
  summary: 'Change a member’s role, expiry or activity', schemas: { params: s.memberParams, body: s.updateMemberBody, response: s.memberResponse },
});
export const removeMember = defineRoute({
  id: 'removeMember', method: 'DELETE', path: '/v1/orgs/{orgId}/members/{userId}', handler: 'identity/remove-member', auth: 'principal', permission: 'members:remove', tag,
  summary: 'Remove a member', successStatus: 204, schemas: { params: s.memberParams },
});
export const transferOwnership = defineRoute({
  id: 'transferOwnership', method: 'POST', path: '/v1/orgs/{orgId}/transfer-ownership', handler: 'identity/transfer-ownership', auth: 'user', permission: 'members:transfer-ownership', tag,
  summary: 'Hand the organization to another member; you become an admin', successStatus: 204,
  schemas: { params: s.orgParams, body: s.transferOwnershipBody },
});
export const createInvitation = defineRoute({
  id: 'createInvitation', method: 'POST', path: '/v1/orgs/{orgId}/invitations', handler: 'identity/create-invitation', auth: 'principal', permission: 'invitations:create', tag,
  summary: 'Invite someone by email with a role', successStatus: 201, idempotent: true,
  schemas: { params: s.orgParams, body: s.createInvitationBody, response: s.invitationResponse },
});
export const listInvitations = defineRoute({
  id: 'listInvitations', method: 'GET', path: '/v1/orgs/{orgId}/invitations', handler: 'identity/list-invitations', auth: 'principal', permission: 'invitations:read', tag,
  summary: 'Invitations of the organization', schemas: { params: s.orgParams, query: s.invitationQuery, response: s.invitationsPage },
});
export const revokeInvitation = defineRoute({
  id: 'revokeInvitation', method: 'DELETE', path: '/v1/orgs/{orgId}/invitations/{invitationId}', handler: 'identity/revoke-invitation', auth: 'principal', permission: 'invitations:revoke', tag,
  summary: 'Withdraw a pending invitation', successStatus: 204, schemas: { params: s.orgInvitationParams },
});
export const acceptInvitation = defineRoute({
  id: 'acceptInvitation', method: 'POST', path: '/v1/invitations/{invitationId}/accept', handler: 'identity/accept-invitation', auth: 'user', tag,
  summary: 'Accept an invitation sent to your email', schemas: { params: s.invitationParams, response: s.acceptInvitationResponse },
});
export const declineInvitation = defineRoute({
  id: 'declineInvitation', method: 'POST', path: '/v1/invitations/{invitationId}/decline', handler: 'identity/decline-invitation', auth: 'user', tag,
  summary: 'Decline an invitation sent to your email', successStatus: 204, schemas: { params: s.invitationParams },
});
export const listRoles = defineRoute({
  id: 'listRoles', method: 'GET', path: '/v1/orgs/{orgId}/roles', handler: 'identity/list-roles', auth: 'principal', permission: 'roles:read', tag,
  summary: 'Built-in and custom roles with their permissions', schemas: { params: s.orgParams, response: s.rolesList },
});
export const createRole = defineRoute({
  id: 'createRole', method: 'POST', path: '/v1/orgs/{orgId}/roles', handler: 'identity/create-role', auth: 'principal', permission: 'roles:manage', tag,
  summary: 'Define a custom role', successStatus: 201, idempotent: true,
  schemas: { params: s.orgParams, body: s.createRoleBody, response: s.roleResponse },
});
export const updateRole = defineRoute({
  id: 'updateRole', method: 'PATCH', path: '/v1/orgs/{orgId}/roles/{roleId}', handler: 'identity/update-role', auth: 'principal', permission: 'roles:manage', tag,
  summary: 'Change a custom role', schemas: { params: s.roleParams, body: s.updateRoleBody, response: s.roleResponse },
});
export const deleteRole = defineRoute({
  id: 'deleteRole', method: 'DELETE', path: '/v1/orgs/{orgId}/roles/{roleId}', handler: 'identity/delete-role', auth: 'principal', permission: 'roles:manage', tag,
  summary: 'Delete a custom role nobody holds', successStatus: 204, schemas: { params: s.roleParams },
});
export const createApiClient = defineRoute({
  id: 'createApiClient', method: 'POST', path: '/v1/orgs/{orgId}/api-clients', handler: 'identity/create-api-client', auth: 'principal', permission: 'api-clients:create', tag,
  summary: 'Create a machine key (shown once) with scopes', successStatus: 201, idempotent: true,
  schemas: { params: s.orgParams, body: s.createApiClientBody, response: s.createdApiClientResponse },
});
export const listApiClients = defineRoute({
  id: 'listApiClients', method: 'GET', path: '/v1/orgs/{orgId}/api-clients', handler: 'identity/list-api-clients', auth: 'principal', permission: 'api-clients:read', tag,
  summary: 'API clients (never their keys)', schemas: { params: s.orgParams, query: s.pageQuery, response: s.apiClientsPage },
});
export const revokeApiClient = defineRoute({
  id: 'revokeApiClient', method: 'DELETE', path: '/v1/orgs/{orgId}/api-clients/{clientId}', handler: 'identity/revoke-api-client', auth: 'principal', permission: 'api-clients:revoke', tag,
  summary: 'Revoke an API client: its key stops working', successStatus: 204, schemas: { params: s.apiClientParams },
});
export const listAuditEvents = defineRoute({
  id: 'listAuditEvents', method: 'GET', path: '/v1/orgs/{orgId}/audit-events', handler: 'identity/list-audit-events', auth: 'principal', permission: 'audit:read', tag,
  summary: 'Who changed what, newest first', schemas: { params: s.orgParams, query: s.auditQuery, response: s.auditPage },
});
