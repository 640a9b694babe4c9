import { listMyProviderCredentials as route } from '@platform/api/routes/hub/credentials';
import { listCredentials } from '@platform/domain/hub/credentials';
import { userOwner } from '@platform/domain/hub/owners';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, query }) => listCredentials(userOwner(userOf(caller)), query));
