import { deleteCustomModel as route } from '@platform/api/routes/hub/models';
import { deleteCustomModel, deletionReads } from '@platform/domain/hub/custom-models';
import { httpHandler } from '@platform/http/handler';

/** The model is read with the authorization: one request for both, then the rules, then the write. */
export const handler = httpHandler(route, async ({ access, params }) => deleteCustomModel(access, params.modelId), {
  preload: ({ params }) => deletionReads(params.orgId, params.modelId),
});
