import { listModels as route } from '@platform/api/routes/hub/models';
import { authorizeOrg } from '@platform/domain/identity/access';
import { listModels } from '@platform/domain/hub/models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, query }) => {
  const { orgId, ...filters } = query;
  const access = orgId ? await authorizeOrg(caller, orgId, 'models:read') : undefined;
  return { items: await listModels(filters, access) };
});
