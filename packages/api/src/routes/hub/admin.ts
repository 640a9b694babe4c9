import { defineRoute } from '@platform/http/route';
import { wholeListQuery } from '@platform/domain/shared/schemas';
import { configParams, configResponse, configsList, saveConfigBody } from '@platform/domain/hub/schemas/admin';

/** Platform-wide agent configuration and the platform's audit log, for platform admins. */
const tag = 'Admin';

export const listAdminConfigs = defineRoute({
  id: 'listAdminConfigs',
  method: 'GET',
  path: '/v1/admin/config',
  handler: 'hub/list-admin-configs',
  auth: 'admin',
  tag,
  summary: 'Platform admins: every agent config (routing_agent, chat_agent_*, artifact_agent_*, git_mcp_agent_*)',
  errors: [400],
  schemas: { query: wholeListQuery(), response: configsList },
});
export const getAdminConfig = defineRoute({
  id: 'getAdminConfig',
  method: 'GET',
  path: '/v1/admin/config/{configKey}',
  handler: 'hub/get-admin-config',
  auth: 'admin',
  tag,
  summary: 'Platform admins: one agent config',
  schemas: { params: configParams, response: configResponse },
});
export const saveAdminConfig = defineRoute({
  id: 'saveAdminConfig',
  method: 'PUT',
  path: '/v1/admin/config/{configKey}',
  handler: 'hub/save-admin-config',
  auth: 'admin',
  refusesDeletedAccount: true,
  tag,
  summary: 'Platform admins: save an agent config, validated per key family and audited',
  errors: [409],
  schemas: { params: configParams, body: saveConfigBody, response: configResponse },
});
