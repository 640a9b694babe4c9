import { getModel as route } from '@platform/api/routes/hub/models';
import { authorizeOptionalOrg } from '@platform/domain/identity/access';
import { getModel } from '@platform/domain/hub/models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, query, access: authorized }) =>
  getModel(params.modelId, await authorizeOptionalOrg(caller, query.orgId, 'models:read', authorized)),
);
