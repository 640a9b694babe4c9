import { updateRoutingRule as route } from '@platform/api/routes/hub/routing-rules';
import { patchRule } from '@platform/domain/hub/routing-rules';
import { orgOwner } from '@platform/domain/hub/owners';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params, body }) => patchRule(orgOwner(access), params.ruleId, body));
