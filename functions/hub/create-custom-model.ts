import { createCustomModel as route } from '@platform/api/routes/hub/models';
import { createCustomModel } from '@platform/domain/hub/custom-models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, body }) => createCustomModel(access, body));
