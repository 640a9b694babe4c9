import { deleteCustomModel as route } from '@platform/api/routes/hub/models';
import { deleteCustomModel } from '@platform/domain/hub/custom-models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => deleteCustomModel(access, params.modelId));
