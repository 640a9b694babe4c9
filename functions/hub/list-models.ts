import { listModels as route } from '@platform/api/routes/hub/models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, query }) => {
  const { authorizeOrg } = await import('@platform/domain/identity/access');
  const { listModels } = await import('@platform/domain/hub/models');
  const { orgId, ...filters } = query;
  const access = orgId ? await authorizeOrg(caller, orgId, 'models:read') : undefined;
  return { items: await listModels(filters, access) };
});
