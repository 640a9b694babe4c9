import { defineRoute } from '@platform/http/route';
import { orgParams } from '@platform/domain/identity/schemas/common';
import {
  createCredentialBody,
  credentialParams,
  credentialResponse,
  credentialsPage,
  credentialsQuery,
  credentialTestResponse,
  orgCredentialParams,
  patchCredentialBody,
  testCredentialBody,
} from '@platform/domain/hub/schemas/credentials';

/**
 * Provider credentials (bring your own key) of an organization, of the signed-in user, and the
 * platform's own (platform admins). Keys go in and are never answered: only their last four.
 * `…/test` calls the provider once through a key and answers the outcome, accepted or refused.
 */
const tag = 'Model hub';
const testSummary = 'call the provider once with the key (a one-token request) and store the outcome';

// An organization's keys
export const createProviderCredential = defineRoute({
  id: 'createProviderCredential',
  method: 'POST',
  path: '/v1/orgs/{orgId}/provider-credentials',
  handler: 'hub/create-provider-credential',
  auth: 'principal',
  permission: 'provider-credentials:manage',
  tag,
  summary: 'Add a provider key of the organization (stored encrypted, never shown again)',
  successStatus: 201,
  idempotent: true,
  schemas: { params: orgParams, body: createCredentialBody, response: credentialResponse },
});
export const listProviderCredentials = defineRoute({
  id: 'listProviderCredentials',
  method: 'GET',
  path: '/v1/orgs/{orgId}/provider-credentials',
  handler: 'hub/list-provider-credentials',
  auth: 'principal',
  permission: 'provider-credentials:read',
  tag,
  summary: 'The organization’s provider keys (never the keys themselves)',
  schemas: { params: orgParams, query: credentialsQuery, response: credentialsPage },
});
export const getProviderCredential = defineRoute({
  id: 'getProviderCredential',
  method: 'GET',
  path: '/v1/orgs/{orgId}/provider-credentials/{credentialId}',
  handler: 'hub/get-provider-credential',
  auth: 'principal',
  permission: 'provider-credentials:read',
  tag,
  summary: 'One provider key of the organization',
  schemas: { params: orgCredentialParams, response: credentialResponse },
});
export const updateProviderCredential = defineRoute({
  id: 'updateProviderCredential',
  method: 'PATCH',
  path: '/v1/orgs/{orgId}/provider-credentials/{credentialId}',
  handler: 'hub/update-provider-credential',
  auth: 'principal',
  permission: 'provider-credentials:manage',
  tag,
  summary: 'Change a provider key of the organization: label, key, base URL, config, default, quotas',
  errors: [409, 422],
  schemas: { params: orgCredentialParams, body: patchCredentialBody, response: credentialResponse },
});
export const deleteProviderCredential = defineRoute({
  id: 'deleteProviderCredential',
  method: 'DELETE',
  path: '/v1/orgs/{orgId}/provider-credentials/{credentialId}',
  handler: 'hub/delete-provider-credential',
  auth: 'principal',
  permission: 'provider-credentials:manage',
  tag,
  summary: 'Delete a provider key of the organization',
  successStatus: 204,
  errors: [409],
  schemas: { params: orgCredentialParams },
});
export const testProviderCredential = defineRoute({
  id: 'testProviderCredential',
  method: 'POST',
  path: '/v1/orgs/{orgId}/provider-credentials/{credentialId}/test',
  handler: 'hub/test-provider-credential',
  auth: 'principal',
  permission: 'provider-credentials:manage',
  invokesModels: true,
  tag,
  summary: `Test a provider key of the organization: ${testSummary}`,
  errors: [409, 422],
  schemas: { params: orgCredentialParams, body: testCredentialBody, response: credentialTestResponse },
});

// The signed-in user's own keys
export const createMyProviderCredential = defineRoute({
  id: 'createMyProviderCredential',
  method: 'POST',
  path: '/v1/me/provider-credentials',
  handler: 'hub/create-my-provider-credential',
  auth: 'user',
  tag,
  summary: 'Add a provider key of your own (stored encrypted, never shown again)',
  successStatus: 201,
  idempotent: true,
  errors: [404],
  schemas: { body: createCredentialBody, response: credentialResponse },
});
export const listMyProviderCredentials = defineRoute({
  id: 'listMyProviderCredentials',
  method: 'GET',
  path: '/v1/me/provider-credentials',
  handler: 'hub/list-my-provider-credentials',
  auth: 'user',
  tag,
  summary: 'Your own provider keys (never the keys themselves)',
  schemas: { query: credentialsQuery, response: credentialsPage },
});
export const getMyProviderCredential = defineRoute({
  id: 'getMyProviderCredential',
  method: 'GET',
  path: '/v1/me/provider-credentials/{credentialId}',
  handler: 'hub/get-my-provider-credential',
  auth: 'user',
  refusesDeletedAccount: true,
  tag,
  summary: 'One of your own provider keys',
  schemas: { params: credentialParams, response: credentialResponse },
});
export const updateMyProviderCredential = defineRoute({
  id: 'updateMyProviderCredential',
  method: 'PATCH',
  path: '/v1/me/provider-credentials/{credentialId}',
  handler: 'hub/update-my-provider-credential',
  auth: 'user',
  refusesDeletedAccount: true,
  tag,
  summary: 'Change one of your own provider keys',
  errors: [409, 422],
  schemas: { params: credentialParams, body: patchCredentialBody, response: credentialResponse },
});
export const deleteMyProviderCredential = defineRoute({
  id: 'deleteMyProviderCredential',
  method: 'DELETE',
  path: '/v1/me/provider-credentials/{credentialId}',
  handler: 'hub/delete-my-provider-credential',
  auth: 'user',
  refusesDeletedAccount: true,
  tag,
  summary: 'Delete one of your own provider keys',
  successStatus: 204,
  errors: [409],
  schemas: { params: credentialParams },
});
export const testMyProviderCredential = defineRoute({
  id: 'testMyProviderCredential',
  method: 'POST',
  path: '/v1/me/provider-credentials/{credentialId}/test',
  handler: 'hub/test-my-provider-credential',
  auth: 'user',
  refusesDeletedAccount: true,
  invokesModels: true,
  tag,
  summary: `Test one of your own provider keys: ${testSummary}`,
  errors: [409, 422],
  schemas: { params: credentialParams, body: testCredentialBody, response: credentialTestResponse },
});

// The platform's own keys
export const createPlatformProviderCredential = defineRoute({
  id: 'createPlatformProviderCredential',
  method: 'POST',
  path: '/v1/admin/provider-credentials',
  handler: 'hub/create-platform-provider-credential',
  auth: 'admin',
  tag,
  summary: 'Platform admins: add a platform key for a provider (Bedrock needs none: IAM)',
  successStatus: 201,
  idempotent: true,
  errors: [404],
  schemas: { body: createCredentialBody, response: credentialResponse },
});
export const listPlatformProviderCredentials = defineRoute({
  id: 'listPlatformProviderCredentials',
  method: 'GET',
  path: '/v1/admin/provider-credentials',
  handler: 'hub/list-platform-provider-credentials',
  auth: 'admin',
  tag,
  summary: 'Platform admins: the platform’s provider keys',
  schemas: { query: credentialsQuery, response: credentialsPage },
});
export const getPlatformProviderCredential = defineRoute({
  id: 'getPlatformProviderCredential',
  method: 'GET',
  path: '/v1/admin/provider-credentials/{credentialId}',
  handler: 'hub/get-platform-provider-credential',
  auth: 'admin',
  refusesDeletedAccount: true,
  tag,
  summary: 'Platform admins: one platform provider key',
  schemas: { params: credentialParams, response: credentialResponse },
});
export const updatePlatformProviderCredential = defineRoute({
  id: 'updatePlatformProviderCredential',
  method: 'PATCH',
  path: '/v1/admin/provider-credentials/{credentialId}',
  handler: 'hub/update-platform-provider-credential',
  auth: 'admin',
  refusesDeletedAccount: true,
  tag,
  summary: 'Platform admins: change a platform provider key',
  errors: [409, 422],
  schemas: { params: credentialParams, body: patchCredentialBody, response: credentialResponse },
});
export const deletePlatformProviderCredential = defineRoute({
  id: 'deletePlatformProviderCredential',
  method: 'DELETE',
  path: '/v1/admin/provider-credentials/{credentialId}',
  handler: 'hub/delete-platform-provider-credential',
  auth: 'admin',
  refusesDeletedAccount: true,
  tag,
  summary: 'Platform admins: delete a platform provider key',
  successStatus: 204,
  errors: [409],
  schemas: { params: credentialParams },
});
export const testPlatformProviderCredential = defineRoute({
  id: 'testPlatformProviderCredential',
  method: 'POST',
  path: '/v1/admin/provider-credentials/{credentialId}/test',
  handler: 'hub/test-platform-provider-credential',
  auth: 'admin',
  refusesDeletedAccount: true,
  invokesModels: true,
  tag,
  summary: `Platform admins: test a platform provider key: ${testSummary}`,
  errors: [409, 422],
  schemas: { params: credentialParams, body: testCredentialBody, response: credentialTestResponse },
});
