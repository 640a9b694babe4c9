import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import type { RouteDefinition } from '../route.ts';
import { stateOf } from '../state.ts';
import { idempotency } from './idempotency.ts';

/** A request that claimed its Idempotency-Key, and the claim, to see what the middleware does with it. */
function claimed() {
  const event = { headers: { 'idempotency-key': 'key-12345678' } } as unknown as APIGatewayProxyEventV2;
  const claim = { kind: 'run' as const, complete: vi.fn(async () => undefined), abandon: vi.fn(async () => undefined) };
  stateOf(event).claim = claim;
  return { event, claim };
}

const middleware = idempotency({ id: 'createThing', path: '/v1/things' } as unknown as RouteDefinition);
const after = (event: APIGatewayProxyEventV2, statusCode: number) =>
  middleware.after!({ event, response: { statusCode, body: '{}' } } as never);

describe('Idempotency-Key claims', () => {
  it('keeps an answer below 500 for replays', async () => {
    for (const statusCode of [201, 409]) {
      const { event, claim } = claimed();
      await after(event, statusCode);
      expect(claim.complete).toHaveBeenCalledWith(expect.objectContaining({ statusCode }));
      expect(claim.abandon).not.toHaveBeenCalled();
    }
  });

  it('gives the key up when the handler answers (not throws) a server error, so a retry runs at once', async () => {
    for (const statusCode of [500, 502, 503]) {
      const { event, claim } = claimed();
      await after(event, statusCode);
      expect(claim.abandon).toHaveBeenCalledOnce();
      expect(claim.complete).not.toHaveBeenCalled();
    }
  });
});
