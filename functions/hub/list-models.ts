import { listModels as route } from '@platform/api/routes/hub/models';
import { authorizeOptionalOrg } from '@platform/domain/identity/access';
import { listModelsPage } from '@platform/domain/hub/models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, query, access: authorized }) => {
  const { orgId, cursor, limit, ...filters } = query;
  const access = await authorizeOptionalOrg(caller, orgId, 'models:read', authorized);
  return listModelsPage(filters, access, { cursor, limit });
});
