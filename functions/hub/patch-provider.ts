import { patchProvider as route } from '@platform/api/routes/hub/providers';
import { platformOwner } from '@platform/domain/hub/owners';
import { patchProvider } from '@platform/domain/hub/providers';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params, body }) =>
  patchProvider(platformOwner(userOf(caller)), params.slug, body),
);
