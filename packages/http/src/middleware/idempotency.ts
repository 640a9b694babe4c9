import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { requireLiveAccount } from '@platform/domain/identity/access';
import { pathParameterNames, type RouteDefinition } from '../route.ts';
import type { AuthContext } from './authorize.ts';
import { stateOf, type RequestState } from '../state.ts';
import { corsHeaders } from './cors.ts';
import { lazy } from '@platform/domain/shared/lazy';
import { canonicalJson } from '@platform/domain/shared/json-value';

const loadIdempotency = lazy(() => import('../idempotency.ts'));

type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

const principalOf = (auth?: AuthContext) => {
  const caller = auth?.caller;
  if (caller?.kind === 'user') return `user:${caller.userId}`;
  if (caller?.kind === 'apiClient') return `client:${caller.clientId}`;
  return 'anonymous';
};

/** Whose request on what: the route, the caller and the path parameters (`orgId`, …), in the path's order. */
const scopeOf = (route: RouteDefinition, state: RequestState) => {
  const params = (state.input?.params ?? {}) as Record<string, unknown>;
  const path = pathParameterNames(route.path).map((name) => String(params[name] ?? ''));
  return [route.id, principalOf(state.auth), ...path].join('#');
};

/** Honours `Idempotency-Key` on routes that create things; see ../idempotency.ts. */
export const idempotency = (
  route: RouteDefinition,
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> => {
  return {
    before: async (request: Request) => {
      const key = request.event.headers?.['idempotency-key'];
      if (key === undefined) return; // an empty one is refused as malformed, not ignored
      const state = stateOf(request.event);
      // Loaded on first use: only requests that send a key need the record (and ElectroDB).
      const { claimIdempotencyKey } = await loadIdempotency();
      // The same key on another organization's route (another path) is another request.
      // The body as validated (emails in lower case, …), its keys in order: the same request written
      // with other spacing or key order is the same request.
      const body = state.input?.body === undefined ? undefined : canonicalJson(state.input.body);
      const claim = await claimIdempotencyKey(scopeOf(route, state), key, body, { shownOnce: route.shownOnce });
      if (claim.kind === 'replay') {
        // Such a route leaves refusing a deleted account to its domain call (see `authorize`), which a replay
        // skips: the profile is read here instead, on replays only, so the token of an account deleted since
        // the first request gets the 404 every route answers it, not that request's answer again.
        const { caller } = state.auth ?? {};
        if (route.refusesDeletedAccount && caller?.kind === 'user') await requireLiveAccount(caller.userId);
        return { ...claim.response, headers: { ...corsHeaders(), ...claim.response.headers, 'idempotent-replayed': 'true' } };
      }
      state.claim = claim;
    },
    after: async (request: Request) => {
      const { claim } = stateOf(request.event);
      if (!claim || !request.response) return;
      // A server error, thrown or answered, is not the request's answer: a retry with the key runs it again.
      if ((request.response.statusCode ?? 200) >= 500) await claim.abandon().catch(() => undefined);
      else await claim.complete(request.response);
    },
    onError: async (request: Request) => {
      const { claim } = stateOf(request.event);
      // Out of time (middy answers just before Lambda's limit), the request's writes may still be on
      // their way: its key stays taken (a retry is a 409) until its lock lapses, past the function's time.
      if (request.error?.name === 'TimeoutError') return;
      // A refused request may be retried with the same key once it is fixed.
      if (claim) await claim.abandon().catch(() => undefined);
    },
  };
};
