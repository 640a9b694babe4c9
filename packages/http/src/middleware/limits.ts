import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { limitSubjects } from '@platform/domain/billing/subjects';
import type { RouteDefinition } from '../route.ts';
import { stateOf } from '../state.ts';
import { lazy } from '@platform/domain/shared/lazy';

const loadLimits = lazy(() => import('@platform/domain/billing/limits'));

/**
 * Enforces usage limits before any work: what the route consumes (from the manifest), and
 * `api` for every call by an API client. One conditional write, or none when nothing is
 * limited; a refusal is 429 with Retry-After and X-RateLimit-* headers.
 */
export const limits = (
  route: RouteDefinition,
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> => ({
  before: async (request) => {
    const auth = stateOf(request.event).auth;
    const access = auth?.access;
    if (!access) return;
    const caller = access.caller;
    const resources = [route.consumes, caller.kind === 'apiClient' ? 'api' : undefined].filter((r): r is string => Boolean(r));
    if (!resources.length) return;
    // Loaded on first use: most calls of most routes consume nothing, and cold starts stay lean.
    const { consume } = await loadLimits();
    await consume(access.org, limitSubjects(access), resources);
  },
});
