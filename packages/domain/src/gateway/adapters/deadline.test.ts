import { describe, expect, it } from 'vitest';
import { OutOfTimeError, ProviderError } from '../types.ts';
import { Deadline } from './deadline.ts';

/** A provider's stream that sends an event every `everyMs`, for ever, and says when it was closed. */
function endless(everyMs: number) {
  const state = { sent: 0, closed: false };
  const events = (async function* () {
    try {
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, everyMs));
        yield ++state.sent;
      }
    } finally {
      state.closed = true;
    }
  })();
  return { events, state };
}

/** Read `events` through `deadline` until it fails: the failure, and how long that took. */
async function readUntilFailure(deadline: Deadline, events: AsyncIterator<number>) {
  const started = performance.now();
  try {
    for (;;) if ((await deadline.next(events)).done) throw new Error('The stream ended');
  } catch (error) {
    return { error, afterMs: performance.now() - started };
  } finally {
    deadline.dispose();
  }
}

describe('a call’s deadline', () => {
  it('cuts off a stream that keeps arriving at totalTimeoutMs, as an OutOfTimeError, not at its silence timeout', async () => {
    const { events, state } = endless(10);
    const deadline = new Deadline('OpenAI', { timeoutMs: 100, totalTimeoutMs: 250 });
    const { error, afterMs } = await readUntilFailure(deadline, events);
    expect(error).toBeInstanceOf(OutOfTimeError);
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    expect((error as Error).message).toBe('OpenAI did not finish within the 250 ms the call had left');
    expect(afterMs).toBeGreaterThanOrEqual(240);
    expect(afterMs).toBeLessThan(1_000);
    // Well past the silence timeout, on events that kept coming.
    expect(state.sent).toBeGreaterThan(10);
    expect(deadline.signal.aborted).toBe(true);
  });

  it('still times a silence out first when it comes before the end', async () => {
    const { events } = endless(200);
    const deadline = new Deadline('OpenAI', { timeoutMs: 50, totalTimeoutMs: 1_000 });
    const { error, afterMs } = await readUntilFailure(deadline, events);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).not.toBeInstanceOf(OutOfTimeError);
    expect((error as Error).message).toBe('OpenAI did not answer within 50 ms');
    expect(afterMs).toBeLessThan(200);
  });

  it('names running out of time when both are due at once, and ends nothing once disposed', async () => {
    const together = new Deadline('OpenAI', { timeoutMs: 30, totalTimeoutMs: 30 });
    const { error } = await readUntilFailure(together, endless(100).events);
    expect(error).toBeInstanceOf(OutOfTimeError);

    const done = new Deadline('OpenAI', { totalTimeoutMs: 20 });
    done.dispose();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done.signal.aborted).toBe(false);
  });
});
