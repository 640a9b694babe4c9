import { listCustomModels as route } from '@platform/api/routes/hub/models';
import { listCustomModels } from '@platform/domain/hub/custom-models';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, query }) => listCustomModels(access, query));
