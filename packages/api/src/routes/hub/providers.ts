import { defineRoute } from '@platform/http/route';
import {
  patchProviderBody,
  providerParams,
  providerResponse,
  providersList,
  providersQuery,
  saveProviderBody,
} from '@platform/domain/hub/schemas/providers';

/** Providers: the catalogue anyone signed in reads, and platform admins edit. */
const tag = 'Model hub';

export const listProviders = defineRoute({
  id: 'listProviders',
  method: 'GET',
  path: '/v1/providers',
  handler: 'hub/list-providers',
  auth: 'principal',
  tag,
  summary: 'The providers: adapters, capabilities, config schemas, groups',
  schemas: { query: providersQuery, response: providersList },
});
export const saveProvider = defineRoute({
  id: 'saveProvider',
  method: 'PUT',
  path: '/v1/admin/providers/{slug}',
  handler: 'hub/save-provider',
  auth: 'admin',
  tag,
  summary: 'Platform admins: create or replace a provider',
  errors: [409],
  schemas: { params: providerParams, body: saveProviderBody, response: providerResponse },
});
export const patchProvider = defineRoute({
  id: 'patchProvider',
  method: 'PATCH',
  path: '/v1/admin/providers/{slug}',
  handler: 'hub/patch-provider',
  auth: 'admin',
  tag,
  summary: 'Platform admins: change some fields of a provider',
  errors: [409],
  schemas: { params: providerParams, body: patchProviderBody, response: providerResponse },
});
export const retireProvider = defineRoute({
  id: 'retireProvider',
  method: 'DELETE',
  path: '/v1/admin/providers/{slug}',
  handler: 'hub/retire-provider',
  auth: 'admin',
  tag,
  summary: 'Platform admins: remove a provider they added, or deactivate a built-in one',
  successStatus: 204,
  errors: [409],
  schemas: { params: providerParams },
});
