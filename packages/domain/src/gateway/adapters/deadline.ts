/**
 * One call's deadline: the caller's AbortSignal and its timeoutMs combined into the one signal an
 * adapter hands to its HTTP request or the AWS SDK, and the classification of whatever that call then throws.
 * Every adapter uses it, so a timeout is always a ProviderError 'timeout' and a cancelled call always
 * a ProviderError 'network' ("cancelled by the caller"; the executor never retries one).
 *
 * For a call that answers at once, the timeout bounds the whole call. A stream calls `extend()` on each
 * event, so the timeout bounds the wait for the first event and every silence after it, not a long
 * answer that keeps arriving: `totalTimeoutMs`, which nothing extends, bounds that (an `OutOfTimeError`).
 */
import { OutOfTimeError, ProviderError } from '../types.ts';
import type { CallOptions } from '../types.ts';

export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private endTimer: NodeJS.Timeout | undefined;
  private readonly onCallerAbort = () => this.controller.abort(cancelled());

  constructor(
    private readonly provider: string,
    private readonly options: CallOptions = {},
  ) {
    this.signal = this.controller.signal;
    if (options.signal?.aborted) this.controller.abort(cancelled());
    else options.signal?.addEventListener('abort', this.onCallerAbort, { once: true });
    // Set first: when both timers are due together, the call ran out of time rather than waited too long.
    const { totalTimeoutMs } = options;
    if (totalTimeoutMs !== undefined && !this.signal.aborted)
      this.endTimer = setTimeout(
        () => this.controller.abort(new OutOfTimeError(provider, totalTimeoutMs)),
        Math.max(0, totalTimeoutMs),
      );
    this.extend();
  }

  /** Restart the timer (a stream made progress). */
  extend(): void {
    const { timeoutMs } = this.options;
    if (timeoutMs === undefined || this.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(this.timeoutError()), timeoutMs);
  }

  /** Stop the timer and forget the caller's signal; call once the call is over, however it ended. */
  dispose(): void {
    clearTimeout(this.timer);
    clearTimeout(this.endTimer);
    this.options.signal?.removeEventListener('abort', this.onCallerAbort);
  }

  /** Throw now if the call is already over (timed out or cancelled). */
  check(): void {
    if (this.signal.aborted) throw this.failure(this.signal.reason);
  }

  /**
   * The ProviderError for anything the call threw: the error itself when it is already one (a
   * provider's answer), the deadline's own (a timeout or a cancellation, whichever ended the call
   * first) when the call was aborted, otherwise a network failure.
   */
  failure(error: unknown): ProviderError {
    if (error instanceof ProviderError) return error;
    if (this.signal.reason instanceof ProviderError) return this.signal.reason;
    return new ProviderError('network', `${this.provider} could not be reached`, { cause: error });
  }

  /**
   * The promise's value, or the deadline's error as soon as it fires, even when the work behind the
   * promise does not notice the abort by itself. The promise's own failure passes through as it is,
   * for the caller to classify.
   */
  async race<T>(promise: Promise<T>): Promise<T> {
    this.check();
    let stop: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      stop = () => reject(this.failure(this.signal.reason));
      this.signal.addEventListener('abort', stop, { once: true });
    });
    try {
      return await Promise.race([promise, aborted]);
    } finally {
      this.signal.removeEventListener('abort', stop!);
      aborted.catch(() => undefined);
      promise.catch(() => undefined);
    }
  }

  /** The next item of a provider's stream within the deadline; progress restarts the timer. */
  async next<T>(iterator: AsyncIterator<T>): Promise<IteratorResult<T>> {
    const result = await this.race(iterator.next());
    this.extend();
    return result;
  }

  private timeoutError(): ProviderError {
    return new ProviderError('timeout', `${this.provider} did not answer within ${this.options.timeoutMs} ms`);
  }
}

function cancelled(): ProviderError {
  return new ProviderError('network', 'The call was cancelled by the caller');
}

/**
 * Run a whole call under a deadline: the function gets the combined signal, its errors come out
 * classified, and the timer is always cleared.
 */
export async function withDeadline<T>(
  provider: string,
  options: CallOptions | undefined,
  call: (deadline: Deadline) => Promise<T>,
) {
  const deadline = new Deadline(provider, options);
  try {
    return await deadline.race(call(deadline));
  } catch (error) {
    throw deadline.failure(error);
  } finally {
    deadline.dispose();
  }
}
