import { getCustomModel as route } from '@platform/api/routes/hub/models';
import { getCustomModel } from '@platform/domain/hub/custom-models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => getCustomModel(access, params.modelId));
