import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  authorizeOrg,
  requireLiveAccount,
  type Caller,
  type OrgAccess,
  type PreloadRead,
} from '@platform/domain/identity/access';
import { ForbiddenError, UnauthenticatedError } from '@platform/domain/shared/errors';
import { callerFromEvent } from '../caller.ts';
import type { RouteDefinition } from '../route.ts';
import { stateOf } from '../state.ts';
import type { ValidatedInput } from './validate.ts';

type Middleware = middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

export interface AuthContext {
  caller: Caller;
  access?: OrgAccess;
}

/** Who is calling, from what the authorizer put in the event; the route's auth kind is enforced. */
export const authenticate = (route: RouteDefinition): Middleware => ({
  before: async (request) => {
    const caller = callerFromEvent(request.event);
    stateOf(request.event).auth = { caller };
    if (route.auth === 'public') return;
    if (caller.kind === 'anonymous') throw new UnauthenticatedError('Sign in, or send an API key');
    if (route.auth !== 'principal' && caller.kind !== 'user')
      throw new ForbiddenError('This route is for signed-in users, not API clients');
    if (route.auth === 'admin' && !(caller.kind === 'user' && caller.isPlatformAdmin))
      throw new ForbiddenError('This route is for platform administrators');
  },
});

/** Items a handler needs, read with the authorization in its one request (see `httpHandler`'s `preload`). */
export type Preload = (input: ValidatedInput) => readonly PreloadRead[];

/**
 * On `/orgs/{orgId}/...` routes, what the caller may do there: the route's permission,
 * declared in the manifest and checked once, here. That read also refuses a deleted account (its
 * memberships are inactive; a platform admin's profile is read with them). Elsewhere a user's
 * profile is read here, unless the route's own domain call refuses a deleted account
 * (`refusesDeletedAccount`): no user route can forget it. An API key is authorized in its own
 * organization on every route, so that a key of a suspended or departed member, or of a deleted
 * organization, works nowhere, and every call of a key counts `api` (`limits`).
 */
export const authorize = (route: RouteDefinition, preload?: Preload): Middleware => ({
  before: async (request) => {
    const state = stateOf(request.event);
    if (route.auth === 'public' || !state.auth) return;
    const { caller } = state.auth;
    const orgId = (state.input?.params as { orgId?: string } | undefined)?.orgId;
    if (orgId) {
      const reads = preload && state.input ? preload(state.input) : [];
      state.auth.access = await authorizeOrg(caller, orgId, route.permission, reads);
    } else if (caller.kind === 'apiClient') state.auth.access = await authorizeOrg(caller, caller.orgId);
    else if (caller.kind === 'user' && !route.refusesDeletedAccount) await requireLiveAccount(caller.userId);
  },
});
