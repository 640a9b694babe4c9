import { defineRoute } from '@platform/http/route';
import { pageQuery } from '@platform/domain/shared/schemas';
import { apiClientsPage, createApiClientBody, createdApiClientResponse } from '@platform/domain/identity/schemas/api-clients';
import { apiClientParams, orgParams } from '@platform/domain/identity/schemas/common';

/** API clients (machine keys). */
const tag = 'Identity';

export const createApiClient = defineRoute({
  id: 'createApiClient',
  method: 'POST',
  path: '/v1/orgs/{orgId}/api-clients',
  handler: 'identity/create-api-client',
  auth: 'principal',
  permission: 'api-clients:create',
  tag,
  summary: 'Create a machine key (shown once) with scopes',
  successStatus: 201,
  // 422: an expiry later than that of the key making this one (a key never outlives the key that made it).
  errors: [422],
  idempotent: true,
  // The key is never kept, not even for a replay: a retry learns the clientId, to revoke it.
  shownOnce: { fields: ['key'], idField: 'clientId', what: 'API client' },
  schemas: { params: orgParams, body: createApiClientBody, response: createdApiClientResponse },
});
export const listApiClients = defineRoute({
  id: 'listApiClients',
  method: 'GET',
  path: '/v1/orgs/{orgId}/api-clients',
  handler: 'identity/list-api-clients',
  auth: 'principal',
  permission: 'api-clients:read',
  tag,
  summary: 'API clients (never their keys)',
  schemas: { params: orgParams, query: pageQuery, response: apiClientsPage },
});
export const revokeApiClient = defineRoute({
  id: 'revokeApiClient',
  method: 'DELETE',
  path: '/v1/orgs/{orgId}/api-clients/{clientId}',
  handler: 'identity/revoke-api-client',
  auth: 'principal',
  permission: 'api-clients:revoke',
  tag,
  summary: 'Revoke an API client: its key stops working',
  successStatus: 204,
  errors: [409],
  schemas: { params: apiClientParams },
});
