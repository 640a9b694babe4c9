import { getModel as route } from '@platform/api/routes/hub/models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, query }) => {
  const { authorizeOrg } = await import('@platform/domain/identity/access');
  const { getModel } = await import('@platform/domain/hub/models');
  return getModel(params.modelId, query.orgId ? await authorizeOrg(caller, query.orgId, 'models:read') : undefined);
});
