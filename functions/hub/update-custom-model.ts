import { updateCustomModel as route } from '@platform/api/routes/hub/models';
import { patchCustomModel } from '@platform/domain/hub/custom-models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params, body }) => patchCustomModel(access, params.modelId, body));
