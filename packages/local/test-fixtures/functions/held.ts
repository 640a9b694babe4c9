import type { Writable } from 'node:stream';

/**
 * A streaming function for `server.test.ts`: it answers at once, then works on (as the gateway
 * meters after its answer) until the test opens its gate.
 */
interface Held {
  started: string[];
  gates: Map<string, () => void>;
}
export const held: Held = ((globalThis as { __held?: Held }).__held ??= { started: [], gates: new Map() });

export const handler = Object.assign(
  async (event: { queryStringParameters?: Record<string, string> }, stream: Writable) => {
    const id = event.queryStringParameters?.id ?? '?';
    held.started.push(id);
    await new Promise<void>((resolve) => stream.end(`answered ${id}`, resolve));
    await new Promise<void>((resolve) => held.gates.set(id, resolve));
  },
  { [Symbol.for('aws.lambda.runtime.handler.streaming')]: 'response' },
);
