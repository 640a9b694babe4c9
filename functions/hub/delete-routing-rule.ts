import { deleteRoutingRule as route } from '@platform/api/routes/hub/routing-rules';
import { deleteRule } from '@platform/domain/hub/routing-rules';
import { orgOwner } from '@platform/domain/hub/owners';
import { httpHandler } from '@platform/http/handler';

export const handler = httpHandler(route, async ({ access, params }) => deleteRule(orgOwner(access), params.ruleId));
