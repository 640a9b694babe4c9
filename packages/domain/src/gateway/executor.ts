/**
 * Runs one call over the router's ordered candidates: retries a retryable failure on the same target
 * with exponential backoff and full jitter, then falls back to the next candidate; skips targets that
 * are cooling down; and keeps a log of every attempt for the `x-route` explanation and the usage log.
 *
 * The policy:
 * - throttled, server, timeout and network errors are retried up to `maxAttempts` times per candidate.
 *   The wait before a retry is random in [0, min(maxDelayMs, baseDelayMs · 2^(attempt-1))] (full
 *   jitter), and never shorter than the provider's Retry-After. All waits of one execution together
 *   stay within `maxTotalWaitMs`: a wait that would pass it falls back at once instead.
 * - invalid and content_filter errors are the request's: they stop and surface as they are (another
 *   model would refuse the same request, and a refused prompt must not be shopped around).
 * - what a model cannot make (`UnsupportedError`: a size, style or `dimensions` it has not, refused
 *   before anything is sent) is that model's limit, not the request's: the candidate is passed over
 *   (logged as `unsupported`, like a skipped one) and the next is tried, cooling nothing down. The
 *   call fails with the first such refusal only when every candidate refused; when any failed
 *   otherwise (a provider's 5xx, a timeout), that failure is the call's, as the request was valid
 *   for the model it named.
 * - auth on the platform's key stops too: it is our misconfiguration, surfaced, never hidden by
 *   quietly moving traffic elsewhere. Auth on a bring-your-own key falls back: the failure belongs to
 *   that one credential, not to the request, and the router lists further candidates (another key
 *   of the organization, or the platform under HYBRID) precisely so the call can still be served; the
 *   key cools down at once, and the attempt log records the refusal so the usage log and `x-route`
 *   show it. A key withdrawn by its owner since the call was routed (deleted, deactivated, rotated:
 *   `KeyWithdrawnError`) is refused before anything is sent and falls back too, whoever's it is,
 *   with no cooldown: the provider did nothing wrong.
 * - a key's spent quota (`QuotaSpentError`) is throttled with its window's end as Retry-After, so
 *   it falls back at once, but counts as no failure of its target: the quota refuses each call by
 *   itself, and one raised serves the next call.
 * - a candidate cooling down is skipped (logged as `cooling`); when every candidate is cooling, the
 *   one that failed least recently is tried. When every candidate tried only refused what its model
 *   cannot make, the cooling ones are tried after them, least recently failed first: one of them may
 *   make it, and a valid request is no 400 while a candidate that never refused it is left untried.
 * - the caller's abort (a client gone) stops everything: nothing is retried for nobody.
 * - an execution may have a deadline (the time its function has left, less what it needs to answer
 *   and record the call): no attempt starts at or after it, each attempt's timeout is cut to what
 *   is left before it, and a backoff that would reach it falls back at once instead. Past it the
 *   execution ends as a timeout, with the attempts so far.
 *
 * Each attempt's timeout is its key's (`timeoutMs` in the serving key's config, which the
 * providers' config schemas offer and validate, e.g. a short one so that a provider that hangs
 * gives way to the fallbacks in seconds rather than minutes), else the execution's `timeoutMs`.
 *
 * A stream falls back only until its first chunk reached the caller; after that an error ends it
 * with what was delivered, and the caller meters that. The deadline bounds a stream to its end:
 * an attempt is given the time left (`totalTimeoutMs`), so a stream still running at the deadline
 * is cut off there (an `OutOfTimeError`) and the function keeps its margin to close it and record
 * the call. Running out of time is no provider's failure: it cools no target down.
 */
import { containerCooldowns, targetKey } from './cooldowns.ts';
import type { Cooldowns } from './cooldowns.ts';
import { KeyWithdrawnError, keyTimeoutMs, OutOfTimeError, ProviderError, QuotaSpentError, UnsupportedError } from './types.ts';
import type { CallOptions, Candidate, ProviderErrorKind } from './types.ts';

export interface RetryPolicy {
  /** Attempts per candidate, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** The most one execution waits between attempts, all waits together. */
  maxTotalWaitMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2_000, maxTotalWaitMs: 5_000 };

export interface ExecuteOptions extends CallOptions {
  /**
   * When the execution must be over, on its clock (`now`): no attempt starts at or after it, and
   * each attempt's timeout is cut to what is left before it.
   */
  deadline?: number;
  retry?: Partial<RetryPolicy>;
  /** Defaults to this container's cooldowns. */
  cooldowns?: Cooldowns;
  /** Injectable for tests: the wait between attempts, the clock in ms, and the jitter's source in [0, 1). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

/** One line of the attempt log. */
export interface Attempt {
  /** The candidate's position in the plan. */
  candidate: number;
  modelId: string;
  /** The provider's slug (for the model metric of a model passed over). */
  provider: string;
  providerModelId: string;
  adapter: Candidate['target']['adapter'];
  keySource: Candidate['keySource'];
  /** 1 for the first try of this candidate; 0 when it was skipped. */
  attempt: number;
  /** `unsupported`: the model cannot make what was asked, and nothing was sent (`UnsupportedError`). */
  outcome: 'ok' | 'cooling' | 'unsupported' | ProviderErrorKind;
  /** The provider's HTTP status, when it answered with one. */
  status?: number;
  /** Until the answer, or for a stream until its first chunk. */
  durationMs: number;
  /** The backoff waited after this attempt. */
  waitMs?: number;
  /** A stream that failed after delivering its first chunk: how it ended. */
  endedWith?: ProviderErrorKind;
}

export interface Execution<T> {
  value: T;
  /** The candidate that answered. */
  candidate: Candidate;
  attempts: Attempt[];
}

export interface StreamExecution<T> {
  candidate: Candidate;
  /** Updated as the stream ends: a failure after the first chunk is recorded on the last attempt. */
  attempts: Attempt[];
  /** The first chunk, then the rest; throws the provider's error if the stream fails after that. */
  stream: AsyncIterable<T>;
}

/** Every candidate failed (or the first non-retryable failure): the last provider error and the log. */
export class ExecutionError extends Error {
  constructor(
    readonly error: ProviderError,
    readonly attempts: Attempt[],
  ) {
    super(error.message, { cause: error });
    this.name = 'ExecutionError';
  }
}

/**
 * The attempt whose failure a failed execution answers with: the last one called (a later
 * candidate that only refused what its model cannot make did not fail), or when none was called,
 * the first refusal, which is the error when every candidate refused.
 */
export function failedAttempt(attempts: readonly Attempt[]): Attempt | undefined {
  return attempts.findLast((a) => a.attempt) ?? attempts.find((a) => a.outcome === 'unsupported') ?? attempts.at(-1);
}

/** The attempt log in a few words, e.g. `1:model-a throttled/429 12ms, 1:model-a ok 80ms`. */
export function explainAttempts(attempts: Attempt[]): string {
  return attempts
    .map(
      (a) =>
        `${a.candidate + 1}:${a.modelId} ${a.outcome}${a.status ? `/${a.status}` : ''}${a.attempt ? ` ${a.durationMs}ms` : ''}`,
    )
    .join(', ');
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener('abort', abort);
      resolve();
    };
    const abort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', abort, { once: true });
  });
}

function cancelled(): ProviderError {
  return new ProviderError('network', 'The call was cancelled by the caller');
}

/** A candidate with its position in the plan. */
type Planned = [number, Candidate];

/** `unsupported`: the candidate's model cannot make what was asked; the next is tried. */
type Next = 'retry' | 'fallback' | 'unsupported' | 'stop';

/** The state of one execution: its policy, clock, waits so far and the attempt log. */
class Run {
  readonly attempts: Attempt[] = [];
  readonly retry: RetryPolicy;
  readonly cooldowns: Cooldowns;
  readonly now: () => number;
  private readonly sleep: NonNullable<ExecuteOptions['sleep']>;
  private readonly random: () => number;
  private waited = 0;

  constructor(readonly options: ExecuteOptions) {
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.cooldowns = options.cooldowns ?? containerCooldowns;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
  }

  /**
   * What an attempt on `candidate` is called with: its key's timeout when the key's config sets
   * one, else the execution's, cut to the time left before the deadline, which is also the most
   * the whole attempt has (a stream to its end).
   */
  callOptions(candidate: Candidate): CallOptions {
    const timeoutMs = keyTimeoutMs(candidate.target) ?? this.options.timeoutMs;
    if (this.options.deadline === undefined) return { signal: this.options.signal, timeoutMs };
    const left = this.options.deadline - this.now();
    return { signal: this.options.signal, timeoutMs: Math.min(timeoutMs ?? Infinity, left), totalTimeoutMs: left };
  }

  /**
   * The candidates to try, with their positions: the ready ones in the plan's order, and the cooling
   * ones (logged as skipped) least recently failed first; when all are cooling, the first of these is ready.
   */
  plan(candidates: Candidate[]): { ready: Planned[]; cooling: Planned[] } {
    if (!candidates.length) throw new ExecutionError(new ProviderError('invalid', 'No model can serve this request'), []);
    const now = this.now();
    const ready: Planned[] = [];
    const cooling: Planned[] = [];
    candidates.forEach((candidate, index) => {
      (this.cooldowns.isCooling(targetKey(candidate), now) ? cooling : ready).push([index, candidate]);
    });
    const lastFailure = ([, c]: Planned) => this.cooldowns.lastFailureAt(targetKey(c)) ?? 0;
    const leastRecentFirst = cooling.toSorted((x, y) => lastFailure(x) - lastFailure(y));
    if (!ready.length) ready.push(leastRecentFirst.shift()!);
    // The skipped ones logged in the plan's order.
    for (const [index, candidate] of cooling) {
      if (leastRecentFirst.some(([skipped]) => skipped === index)) this.log(index, candidate, 0, 'cooling', 0);
    }
    return { ready, cooling: leastRecentFirst };
  }

  log(index: number, candidate: Candidate, attempt: number, outcome: Attempt['outcome'], durationMs: number, status?: number) {
    const entry: Attempt = {
      candidate: index,
      modelId: candidate.modelId,
      provider: candidate.target.providerSlug,
      providerModelId: candidate.target.providerModelId,
      adapter: candidate.target.adapter,
      keySource: candidate.keySource,
      attempt,
      outcome,
      durationMs,
      ...(status ? { status } : {}),
    };
    this.attempts.push(entry);
    return entry;
  }

  /** Stop now if the caller went away, or the deadline leaves no time for another attempt. */
  checkCanStart(last: ProviderError | undefined): void {
    if (this.options.signal?.aborted) throw new ExecutionError(cancelled(), this.attempts);
    if (this.pastDeadline(this.now())) {
      const tried = this.attempts.filter((a) => a.attempt).length;
      const after = last ? ` after ${tried} attempt${tried === 1 ? '' : 's'}; last: ${last.message}` : '';
      throw new ExecutionError(new ProviderError('timeout', `The call ran out of time${after}`), this.attempts);
    }
  }

  private pastDeadline(at: number): boolean {
    return this.options.deadline !== undefined && at >= this.options.deadline;
  }

  /** Record a failed attempt and decide what comes next; waits the backoff when the answer is retry. */
  async failed(index: number, candidate: Candidate, attempt: number, error: unknown, started: number): Promise<Next> {
    if (!(error instanceof ProviderError)) throw error; // a bug, not a provider's answer
    // Nothing was sent: no attempt of the target's (as one skipped), and no failure of it.
    if (error instanceof UnsupportedError) {
      this.log(index, candidate, 0, 'unsupported', 0);
      return 'unsupported';
    }
    const entry = this.log(index, candidate, attempt, error.kind, this.now() - started, error.options.status);
    if (this.options.signal?.aborted) throw new ExecutionError(cancelled(), this.attempts);
    // Cut off at the deadline (the next check ends the execution), or a key withdrawn since the
    // call was routed: either way the target did nothing wrong.
    if (error instanceof OutOfTimeError || error instanceof KeyWithdrawnError) return 'fallback';
    const key = targetKey(candidate);
    if (!error.retryable) {
      if (error.kind === 'auth' && candidate.keySource === 'byok') {
        this.cooldowns.recordFailure(key, this.now(), { coolNow: true });
        return 'fallback';
      }
      return 'stop';
    }
    // A spent quota is its key's owner's limit, refused per call: no sign of a failing provider.
    if (!(error instanceof QuotaSpentError)) this.cooldowns.recordFailure(key, this.now());
    if (attempt >= this.retry.maxAttempts || this.cooldowns.isCooling(key, this.now())) return 'fallback';
    const backoff = this.random() * Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    const wait = Math.ceil(Math.max(backoff, error.options.retryAfterMs ?? 0));
    if (this.waited + wait > this.retry.maxTotalWaitMs || this.pastDeadline(this.now() + wait)) return 'fallback';
    this.waited += wait;
    entry.waitMs = wait;
    try {
      await this.sleep(wait, this.options.signal);
    } catch {
      throw new ExecutionError(cancelled(), this.attempts);
    }
    return 'retry';
  }
}

/** One attempt on one candidate, called with `options`: the value, or a throw that the run classifies. */
type Attempter<R> = (
  run: Run,
  index: number,
  candidate: Candidate,
  attempt: number,
  started: number,
  options: CallOptions,
) => Promise<R>;

/**
 * Walk the plan: each candidate's attempts in turn, until one returns, a failure stops the walk, or
 * none is left. Then the last failure is the call's, or when every candidate only refused what its
 * model cannot make, the first refusal.
 */
async function walk<R>(candidates: Candidate[], options: ExecuteOptions, attempt: Attempter<R>): Promise<R> {
  const run = new Run(options);
  let last: ProviderError | undefined;
  let unsupported: ProviderError | undefined;
  const { ready, cooling } = run.plan(candidates);
  // The cooling candidates only when every ready one only refused what its model cannot make (no
  // failure yet): a cooling one may make it, and would otherwise never have been asked.
  const order = function* () {
    yield* ready;
    if (!last) yield* cooling;
  };
  for (const [index, candidate] of order()) {
    for (let n = 1; ; n++) {
      run.checkCanStart(last);
      const started = run.now();
      try {
        return await attempt(run, index, candidate, n, started, run.callOptions(candidate));
      } catch (error) {
        const next = await run.failed(index, candidate, n, error, started);
        if (next === 'unsupported') {
          unsupported ??= error as ProviderError;
          break;
        }
        last = error as ProviderError;
        if (next === 'stop') throw new ExecutionError(last, run.attempts);
        if (next === 'fallback') break;
      }
    }
  }
  throw new ExecutionError((last ?? unsupported)!, run.attempts);
}

/** Call `call` for each candidate in turn, with retries, until one answers. */
export function execute<T>(
  candidates: Candidate[],
  call: (candidate: Candidate, options: CallOptions) => Promise<T>,
  options: ExecuteOptions = {},
): Promise<Execution<T>> {
  return walk(candidates, options, async (run, index, candidate, attempt, started, callOptions) => {
    const value = await call(candidate, callOptions);
    run.log(index, candidate, attempt, 'ok', run.now() - started);
    run.cooldowns.recordSuccess(targetKey(candidate));
    return { value, candidate, attempts: run.attempts };
  });
}

/**
 * Open a stream on each candidate in turn, with retries, until one delivers its first chunk; from then
 * on the stream is the caller's, and a failure ends it (recorded on the last attempt and as a failure
 * of its target). Only a stream that ends well counts as its target's success, so a target that keeps
 * dropping streams half-way cools down too.
 */
export function executeStream<T>(
  candidates: Candidate[],
  open: (candidate: Candidate, options: CallOptions) => AsyncIterable<T>,
  options: ExecuteOptions = {},
): Promise<StreamExecution<T>> {
  return walk(candidates, options, async (run, index, candidate, attempt, started, callOptions) => {
    let iterator: AsyncIterator<T> | undefined;
    try {
      iterator = open(candidate, callOptions)[Symbol.asyncIterator]();
      const first = await iterator.next();
      if (first.done) throw new ProviderError('network', 'The stream ended before its first chunk');
      const entry = run.log(index, candidate, attempt, 'ok', run.now() - started);
      return { candidate, attempts: run.attempts, stream: deliver(first.value, iterator, candidate, entry, run) };
    } catch (error) {
      void iterator?.return?.()?.catch(() => undefined);
      throw error;
    }
  });
}

async function* deliver<T>(
  first: T,
  iterator: AsyncIterator<T>,
  candidate: Candidate,
  entry: Attempt,
  run: Run,
): AsyncGenerator<T> {
  let finished = false;
  try {
    yield first;
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      yield next.value;
    }
    finished = true;
    run.cooldowns.recordSuccess(targetKey(candidate));
  } catch (error) {
    finished = true;
    if (error instanceof ProviderError) {
      entry.endedWith = error.kind;
      const providersFault = error.retryable && !(error instanceof OutOfTimeError) && !run.options.signal?.aborted;
      if (providersFault) run.cooldowns.recordFailure(targetKey(candidate), run.now());
    }
    throw error;
  } finally {
    // The caller stopped reading (a client gone): close the provider's stream too.
    if (!finished) await iterator.return?.()?.catch(() => undefined);
  }
}
