import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Claim } from './idempotency.ts';
import type { AuthContext } from './middleware/authorize.ts';
import type { ValidatedInput } from './middleware/validate.ts';

/** What the middlewares learn about one request, kept beside its event (never in module state). */
export interface RequestState {
  auth?: AuthContext;
  input?: ValidatedInput;
  claim?: Extract<Claim, { kind: 'run' }>;
}

const states = new WeakMap<APIGatewayProxyEventV2, RequestState>();

export function stateOf(event: APIGatewayProxyEventV2): RequestState {
  let state = states.get(event);
  if (!state) states.set(event, (state = {}));
  return state;
}
