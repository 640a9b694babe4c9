import { retireModel as route } from '@platform/api/routes/hub/models';
import { retireCatalogueModel } from '@platform/domain/hub/models';
import { platformOwner } from '@platform/domain/hub/owners';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) =>
  retireCatalogueModel(platformOwner(userOf(caller)), params.modelId),
);
