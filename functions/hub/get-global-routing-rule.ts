import { getGlobalRoutingRule as route } from '@platform/api/routes/hub/routing-rules';
import { getRule } from '@platform/domain/hub/routing-rules';
import { platformOwner } from '@platform/domain/hub/owners';
import { userOf } from '@platform/http/caller';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ caller, params }) => getRule(platformOwner(userOf(caller)), params.ruleId));
