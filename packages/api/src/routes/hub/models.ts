import { defineRoute } from '@platform/http/route';
import { orgParams } from '@platform/domain/identity/schemas/common';
import {
  catalogueModelParams,
  customModelBody,
  customModelsQuery,
  favoriteResponse,
  favoritesPage,
  favoritesQuery,
  modelOrgQuery,
  modelParams,
  modelResponse,
  modelsList,
  modelsPage,
  modelsQuery,
  orgModelParams,
  patchCustomModelBody,
  patchModelBody,
  saveModelBody,
} from '@platform/domain/hub/schemas/models';

/** Models: the catalogue, organizations' custom models, a user's favourites. */
const tag = 'Model hub';

export const listModels = defineRoute({
  id: 'listModels',
  method: 'GET',
  path: '/v1/models',
  handler: 'hub/list-models',
  auth: 'principal',
  refusesDeletedAccount: true,
  tag,
  summary: 'The models you can use, by type, provider, capability; with `orgId`, that organization’s custom models too',
  errors: [404],
  schemas: { query: modelsQuery, response: modelsList },
});
export const getModel = defineRoute({
  id: 'getModel',
  method: 'GET',
  path: '/v1/models/{modelId}',
  handler: 'hub/get-model',
  auth: 'principal',
  refusesDeletedAccount: true,
  tag,
  summary: 'One model of the catalogue, or a custom model of `orgId`',
  schemas: { params: modelParams, query: modelOrgQuery, response: modelResponse },
});
export const saveModel = defineRoute({
  id: 'saveModel',
  method: 'PUT',
  path: '/v1/admin/models/{modelId}',
  handler: 'hub/save-model',
  auth: 'admin',
  tag,
  summary: 'Platform admins: create or replace a catalogue model',
  errors: [409],
  schemas: { params: catalogueModelParams, body: saveModelBody, response: modelResponse },
});
export const patchModel = defineRoute({
  id: 'patchModel',
  method: 'PATCH',
  path: '/v1/admin/models/{modelId}',
  handler: 'hub/patch-model',
  auth: 'admin',
  tag,
  summary: 'Platform admins: change some fields of a catalogue model (prices, status, aliases, …)',
  errors: [409],
  schemas: { params: catalogueModelParams, body: patchModelBody, response: modelResponse },
});
export const retireModel = defineRoute({
  id: 'retireModel',
  method: 'DELETE',
  path: '/v1/admin/models/{modelId}',
  handler: 'hub/retire-model',
  auth: 'admin',
  tag,
  summary: 'Platform admins: remove a catalogue model they added, or deactivate a built-in one',
  successStatus: 204,
  errors: [409],
  schemas: { params: catalogueModelParams },
});

export const createCustomModel = defineRoute({
  id: 'createCustomModel',
  method: 'POST',
  path: '/v1/orgs/{orgId}/models',
  handler: 'hub/create-custom-model',
  auth: 'principal',
  permission: 'models:manage',
  tag,
  summary: 'Add a custom model of the organization, served by one of the providers',
  successStatus: 201,
  idempotent: true,
  schemas: { params: orgParams, body: customModelBody, response: modelResponse },
});
export const listCustomModels = defineRoute({
  id: 'listCustomModels',
  method: 'GET',
  path: '/v1/orgs/{orgId}/models',
  handler: 'hub/list-custom-models',
  auth: 'principal',
  permission: 'models:read',
  tag,
  summary: 'The organization’s custom models',
  schemas: { params: orgParams, query: customModelsQuery, response: modelsPage },
});
export const getCustomModel = defineRoute({
  id: 'getCustomModel',
  method: 'GET',
  path: '/v1/orgs/{orgId}/models/{modelId}',
  handler: 'hub/get-custom-model',
  auth: 'principal',
  permission: 'models:read',
  tag,
  summary: 'One custom model of the organization',
  schemas: { params: orgModelParams, response: modelResponse },
});
export const updateCustomModel = defineRoute({
  id: 'updateCustomModel',
  method: 'PATCH',
  path: '/v1/orgs/{orgId}/models/{modelId}',
  handler: 'hub/update-custom-model',
  auth: 'principal',
  permission: 'models:manage',
  tag,
  summary: 'Change a custom model of the organization',
  errors: [409],
  schemas: { params: orgModelParams, body: patchCustomModelBody, response: modelResponse },
});
export const deleteCustomModel = defineRoute({
  id: 'deleteCustomModel',
  method: 'DELETE',
  path: '/v1/orgs/{orgId}/models/{modelId}',
  handler: 'hub/delete-custom-model',
  auth: 'principal',
  permission: 'models:manage',
  tag,
  summary: 'Delete a custom model (refused while a routing rule sends calls to it)',
  successStatus: 204,
  errors: [409],
  schemas: { params: orgModelParams },
});

export const listFavoriteModels = defineRoute({
  id: 'listFavoriteModels',
  method: 'GET',
  path: '/v1/me/favorite-models',
  handler: 'hub/list-favorite-models',
  auth: 'user',
  refusesDeletedAccount: true,
  tag,
  summary: 'Your favourite models, each as it is now',
  schemas: { query: favoritesQuery, response: favoritesPage },
});
export const addFavoriteModel = defineRoute({
  id: 'addFavoriteModel',
  method: 'PUT',
  path: '/v1/me/favorite-models/{modelId}',
  handler: 'hub/add-favorite-model',
  auth: 'user',
  refusesDeletedAccount: true,
  tag,
  summary: 'Make a model one of your favourites (a custom model: with its `orgId`)',
  schemas: { params: modelParams, query: modelOrgQuery, response: favoriteResponse },
});
export const removeFavoriteModel = defineRoute({
  id: 'removeFavoriteModel',
  method: 'DELETE',
  path: '/v1/me/favorite-models/{modelId}',
  handler: 'hub/remove-favorite-model',
  auth: 'user',
  tag,
  summary: 'Remove a model from your favourites',
  successStatus: 204,
  schemas: { params: modelParams },
});
