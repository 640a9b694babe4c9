import { beforeEach, describe, expect, it } from 'vitest';
import { Cooldowns, targetKey } from './cooldowns.ts';
import { execute, executeStream, ExecutionError, explainAttempts, failedAttempt } from './executor.ts';
import type { ExecuteOptions } from './executor.ts';
import { OutOfTimeError, ProviderError, UnsupportedError } from './types.ts';
import type { CallOptions, Candidate, ChatChunk } from './types.ts';

function candidate(modelId: string, extra: Partial<Candidate> = {}): Candidate {
  return {
    modelId,
    modelName: modelId,
    type: 'TEXT',
    pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
    target: { adapter: 'openai', providerSlug: 'openai', providerModelId: `${modelId}-v1` },
    keySource: 'platform',
    reason: 'test',
    ...extra,
  };
}

const throttled = (retryAfterMs?: number) => new ProviderError('throttled', 'slow down', { status: 429, retryAfterMs });
const unavailable = () => new ProviderError('server', 'unavailable', { status: 503 });

/** A clock that only the test moves: sleeping advances it, calls take `callMs` each. */
function harness(options: { random?: number; callMs?: number } = {}) {
  let now = 1_000_000;
  const waits: number[] = [];
  const calls: string[] = [];
  const cooldowns = new Cooldowns({ failureThreshold: 3, windowMs: 30_000, cooldownMs: 30_000 });
  const opts: ExecuteOptions = {
    cooldowns,
    now: () => now,
    random: () => options.random ?? 0.5,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  };
  /** A call that answers per candidate from a script: an error to throw or a value, in order; then 'ok'. */
  function scripted(script: Record<string, Array<ProviderError | string>>) {
    return async (c: Candidate, _options: CallOptions) => {
      calls.push(c.modelId);
      now += options.callMs ?? 10;
      const next = script[c.modelId]?.shift() ?? `${c.modelId}:ok`;
      if (next instanceof Error) throw next;
      return next;
    };
  }
  return { opts, waits, calls, cooldowns, scripted, advance: (ms: number) => (now += ms) };
}

async function failure(promise: Promise<unknown>): Promise<ExecutionError> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ExecutionError);
  return error as ExecutionError;
}

describe('the executor', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness();
  });

  it('answers from the first candidate when it succeeds, with a one-line log', async () => {
    const result = await execute([candidate('a'), candidate('b')], h.scripted({}), h.opts);
    expect(result.value).toBe('a:ok');
    expect(result.candidate.modelId).toBe('a');
    expect(result.attempts).toEqual([
      {
        candidate: 0,
        modelId: 'a',
        provider: 'openai',
        providerModelId: 'a-v1',
        adapter: 'openai',
        keySource: 'platform',
        attempt: 1,
        outcome: 'ok',
        durationMs: 10,
      },
    ]);
    expect(h.calls).toEqual(['a']);
  });

  it('retries a throttled or failing target with exponential backoff and full jitter, then succeeds', async () => {
    const result = await execute([candidate('a')], h.scripted({ a: [unavailable(), unavailable()] }), {
      ...h.opts,
      random: () => 0.5,
    });
    expect(result.value).toBe('a:ok');
    // random 0.5 × min(2000, 100 · 2^(n-1)) → 50, then 100
    expect(h.waits).toEqual([50, 100]);
    expect(result.attempts.map((a) => [a.attempt, a.outcome, a.status, a.waitMs])).toEqual([
      [1, 'server', 503, 50],
      [2, 'server', 503, 100],
      [3, 'ok', undefined, undefined],
    ]);
  });

  it('never waits less than the provider’s Retry-After', async () => {
    await execute([candidate('a')], h.scripted({ a: [throttled(1_500)] }), { ...h.opts, random: () => 0.99 });
    expect(h.waits).toEqual([1_500]);
  });

  it('draws each wait from [0, cap]: full jitter, capped at maxDelayMs', async () => {
    const retry = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 300, maxTotalWaitMs: 10_000 };
    await execute(
      [candidate('a')],
      h.scripted({ a: [unavailable(), unavailable(), unavailable(), unavailable(), unavailable()] }),
      {
        ...h.opts,
        cooldowns: new Cooldowns({ failureThreshold: 99, windowMs: 1, cooldownMs: 1 }),
        retry,
        random: () => 1,
      },
    );
    expect(h.waits).toEqual([100, 200, 300, 300, 300]);
    h.waits.length = 0;
    await execute([candidate('a')], h.scripted({ a: [unavailable()] }), { ...h.opts, retry, random: () => 0 });
    expect(h.waits).toEqual([0]);
  });

  it('falls back to the next candidate after the last attempt, in the plan’s order', async () => {
    const result = await execute(
      [candidate('a'), candidate('b'), candidate('c')],
      h.scripted({ a: [throttled(), throttled(), throttled()], b: [unavailable(), unavailable(), unavailable()] }),
      { ...h.opts, cooldowns: new Cooldowns({ failureThreshold: 10, windowMs: 30_000, cooldownMs: 30_000 }) },
    );
    expect(result.value).toBe('c:ok');
    expect(h.calls).toEqual(['a', 'a', 'a', 'b', 'b', 'b', 'c']);
    expect(explainAttempts(result.attempts)).toBe(
      '1:a throttled/429 10ms, 1:a throttled/429 10ms, 1:a throttled/429 10ms, 2:b server/503 10ms, 2:b server/503 10ms, 2:b server/503 10ms, 3:c ok 10ms',
    );
  });

  it('falls back at once when the Retry-After would pass the total wait budget', async () => {
    const result = await execute([candidate('a'), candidate('b')], h.scripted({ a: [throttled(60_000)] }), h.opts);
    expect(result.value).toBe('b:ok');
    expect(h.waits).toEqual([]);
    expect(h.calls).toEqual(['a', 'b']);
  });

  it('keeps all waits of one execution within maxTotalWaitMs', async () => {
    const retry = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2_000, maxTotalWaitMs: 2_500 };
    const error = await failure(
      execute(
        [candidate('a'), candidate('b')],
        h.scripted({ a: [throttled(1_000), throttled(1_000), throttled(1_000)], b: [throttled(1_000), throttled(1_000)] }),
        {
          ...h.opts,
          retry,
          cooldowns: new Cooldowns({ failureThreshold: 10, windowMs: 30_000, cooldownMs: 30_000 }),
        },
      ),
    );
    expect(h.waits).toEqual([1_000, 1_000]);
    expect(h.calls).toEqual(['a', 'a', 'a', 'b']);
    expect(error.error.kind).toBe('throttled');
  });

  it('stops at an invalid request or a content filter, surfacing the provider’s error as it is', async () => {
    for (const kind of ['invalid', 'content_filter'] as const) {
      const refusal = new ProviderError(kind, 'no', { status: 400 });
      h.calls.length = 0;
      const error = await failure(execute([candidate('a'), candidate('b')], h.scripted({ a: [refusal] }), h.opts));
      expect(error.error).toBe(refusal);
      expect(h.calls).toEqual(['a']);
      expect(error.attempts).toHaveLength(1);
    }
  });

  it('passes over a candidate whose model cannot make the request, at once and cooling nothing, to one that can', async () => {
    const cannot = () => new UnsupportedError('a cannot make size 512x512', 'size');
    const result = await execute(
      [candidate('a'), candidate('b')],
      h.scripted({ a: [cannot(), cannot(), cannot(), cannot()] }),
      h.opts,
    );
    expect(result.value).toBe('b:ok');
    expect(h.calls).toEqual(['a', 'b']);
    expect(h.waits).toEqual([]);
    expect(result.attempts.map((a) => [a.modelId, a.attempt, a.outcome])).toEqual([
      ['a', 0, 'unsupported'],
      ['b', 1, 'ok'],
    ]);
    expect(explainAttempts(result.attempts)).toBe('1:a unsupported, 2:b ok 10ms');
    expect(h.cooldowns.lastFailureAt(targetKey(candidate('a')))).toBeUndefined();
  });

  it('fails with the first refusal when every candidate’s model refused, else with the other failure', async () => {
    const first = new UnsupportedError('a cannot make style vivid', 'style');
    const allRefused = await failure(
      execute(
        [candidate('a'), candidate('b')],
        h.scripted({ a: [first], b: [new UnsupportedError('b neither', 'style')] }),
        h.opts,
      ),
    );
    expect(allRefused.error).toBe(first);
    expect(allRefused.attempts.map((a) => a.outcome)).toEqual(['unsupported', 'unsupported']);

    // A provider's failure, before or after a refusal, is the call's: the request was valid for the model that failed.
    const down = [unavailable(), unavailable(), unavailable()];
    const failedFirst = await failure(execute([candidate('a'), candidate('b')], h.scripted({ a: down, b: [first] }), h.opts));
    expect(failedFirst.error.kind).toBe('server');
    const refusedFirst = await failure(
      execute(
        [candidate('a'), candidate('b')],
        h.scripted({ a: [first], b: [unavailable(), unavailable(), unavailable()] }),
        h.opts,
      ),
    );
    expect(refusedFirst.error.kind).toBe('server');
  });

  it('stops at an auth failure of the platform’s key, but falls back from a refused bring-your-own key and cools it', async () => {
    const denied = () => new ProviderError('auth', 'bad key', { status: 401 });
    const platform = await failure(execute([candidate('a'), candidate('b')], h.scripted({ a: [denied()] }), h.opts));
    expect(platform.error.kind).toBe('auth');
    expect(h.calls).toEqual(['a']);

    h.calls.length = 0;
    const byok = candidate('own', { keySource: 'byok', credentialId: 'cred_1' });
    const result = await execute([byok, candidate('b')], h.scripted({ own: [denied()] }), h.opts);
    expect(result.value).toBe('b:ok');
    expect(h.calls).toEqual(['own', 'b']);
    expect(result.attempts.map((a) => a.outcome)).toEqual(['auth', 'ok']);

    h.calls.length = 0;
    const next = await execute([byok, candidate('b')], h.scripted({}), h.opts);
    expect(next.value).toBe('b:ok');
    expect(next.attempts[0]).toMatchObject({ modelId: 'own', outcome: 'cooling', attempt: 0 });
  });

  it('cools a target down after 3 failures within 30 s, skips it while cooling, and probes it when cooling ends', async () => {
    const plan = [candidate('a'), candidate('b')];
    const first = await execute(plan, h.scripted({ a: [unavailable(), unavailable(), unavailable()] }), h.opts);
    expect(first.value).toBe('b:ok');
    expect(h.calls).toEqual(['a', 'a', 'a', 'b']);

    h.calls.length = 0;
    h.advance(29_000);
    const whileCooling = await execute(plan, h.scripted({}), h.opts);
    expect(whileCooling.value).toBe('b:ok');
    expect(h.calls).toEqual(['b']);
    expect(whileCooling.attempts.map((a) => `${a.modelId}:${a.outcome}`)).toEqual(['a:cooling', 'b:ok']);

    h.calls.length = 0;
    h.advance(1_000);
    const probe = await execute(plan, h.scripted({ a: [unavailable()] }), h.opts);
    // The probe failed: cooled down again at once, no retry on it.
    expect(h.calls).toEqual(['a', 'b']);
    expect(probe.value).toBe('b:ok');
    h.calls.length = 0;
    await execute(plan, h.scripted({}), h.opts);
    expect(h.calls).toEqual(['b']);

    h.advance(30_000);
    h.calls.length = 0;
    await execute(plan, h.scripted({}), h.opts);
    expect(h.calls).toEqual(['a']);
    h.calls.length = 0;
    await execute(plan, h.scripted({ a: [unavailable()] }), h.opts);
    // Healthy again after a success: one failure is retried, not cooled.
    expect(h.calls).toEqual(['a', 'a']);
  });

  it('does not cool a target whose failures are spread beyond the window', async () => {
    const plan = [candidate('a'), candidate('b')];
    const retry = { maxAttempts: 1 };
    await execute(plan, h.scripted({ a: [unavailable()] }), { ...h.opts, retry });
    h.advance(20_000);
    await execute(plan, h.scripted({ a: [unavailable()] }), { ...h.opts, retry });
    h.advance(20_000);
    await execute(plan, h.scripted({ a: [unavailable()] }), { ...h.opts, retry });
    h.calls.length = 0;
    await execute(plan, h.scripted({}), { ...h.opts, retry });
    expect(h.calls).toEqual(['a']);
  });

  it('tries the least recently failed candidate when every candidate is cooling', async () => {
    const plan = [candidate('a'), candidate('b')];
    const errors = () => [unavailable(), unavailable(), unavailable()];
    await failure(execute(plan, h.scripted({ a: errors(), b: errors() }), h.opts));
    expect(h.calls).toEqual(['a', 'a', 'a', 'b', 'b', 'b']);
    h.calls.length = 0;
    const result = await execute(plan, h.scripted({}), h.opts);
    expect(h.calls).toEqual(['a']);
    expect(result.attempts.map((a) => `${a.modelId}:${a.outcome}`)).toEqual(['b:cooling', 'a:ok']);
  });

  it('tries the cooling candidates, least recently failed first, when every ready one only refused what its model cannot make', async () => {
    const errors = () => [unavailable(), unavailable(), unavailable()];
    // `b` cools down, then `a`: `b` failed less recently.
    await execute([candidate('b'), candidate('c')], h.scripted({ b: errors() }), h.opts);
    h.advance(1_000);
    await execute([candidate('a'), candidate('c')], h.scripted({ a: errors() }), h.opts);
    h.calls.length = 0;
    const plan = [candidate('a'), candidate('b'), candidate('c')];
    const cannot = (modelId: string) => new UnsupportedError(`${modelId} cannot make style vivid`, 'style');
    const served = await execute(plan, h.scripted({ c: [cannot('c')] }), h.opts);
    expect(served.value).toBe('b:ok');
    expect(h.calls).toEqual(['c', 'b']);
    expect(explainAttempts(served.attempts)).toBe('1:a cooling, 2:b cooling, 3:c unsupported, 2:b ok 10ms');

    // Every candidate refusing is the first refusal, each logged as tried.
    h.calls.length = 0;
    const first = cannot('b');
    const allRefused = await failure(execute(plan, h.scripted({ b: [first], c: [cannot('c')], a: [cannot('a')] }), h.opts));
    expect(h.calls).toEqual(['b', 'c', 'a']);
    expect(allRefused.error).toBe(first);
    expect(failedAttempt(allRefused.attempts)).toMatchObject({ modelId: 'b', outcome: 'unsupported' });
    expect(explainAttempts(allRefused.attempts)).toBe('1:a cooling, 2:b unsupported, 3:c unsupported, 1:a unsupported');
  });

  it('tries no cooling candidate after a ready one failed otherwise than by refusing', async () => {
    const plan = [candidate('a'), candidate('b')];
    await execute(plan, h.scripted({ a: [unavailable(), unavailable(), unavailable()] }), h.opts);
    h.calls.length = 0;
    const error = await failure(execute(plan, h.scripted({ b: [new ProviderError('invalid', 'bad prompt')] }), h.opts));
    expect(error.error.kind).toBe('invalid');
    expect(h.calls).toEqual(['b']);
  });

  it('names the last candidate called as the failure answered, not a later one that only refused', async () => {
    const byok = candidate('own', { keySource: 'byok', credentialId: 'cred_1' });
    const denied = new ProviderError('auth', 'Incorrect API key provided', { status: 401 });
    const error = await failure(
      execute(
        [byok, candidate('b')],
        h.scripted({ own: [denied], b: [new UnsupportedError('b cannot make size', 'size')] }),
        h.opts,
      ),
    );
    expect(error.error).toBe(denied);
    expect(failedAttempt(error.attempts)).toMatchObject({ modelId: 'own', keySource: 'byok', outcome: 'auth' });
  });

  it('keys cooldowns by credential: another key for the same model is not cooling', async () => {
    const mine = candidate('m', { keySource: 'byok', credentialId: 'cred_1' });
    const theirs = candidate('m', { keySource: 'byok', credentialId: 'cred_2' });
    await failure(execute([mine], h.scripted({ m: [unavailable(), unavailable(), unavailable()] }), h.opts));
    h.calls.length = 0;
    const result = await execute([mine, theirs], h.scripted({}), h.opts);
    expect(result.candidate).toBe(theirs);
    expect(result.attempts.map((a) => `${a.candidate}:${a.outcome}`)).toEqual(['0:cooling', '1:ok']);
  });

  it('stops when the caller aborts, during a call or a backoff, without trying further', async () => {
    const controller = new AbortController();
    const call = async (c: Candidate) => {
      h.calls.push(c.modelId);
      controller.abort();
      throw new ProviderError('network', 'The call was cancelled by the caller');
    };
    const error = await failure(execute([candidate('a'), candidate('b')], call, { ...h.opts, signal: controller.signal }));
    expect(error.error.message).toMatch(/cancelled/);
    expect(h.calls).toEqual(['a']);

    const waiting = new AbortController();
    const sleeping = await failure(
      execute([candidate('a'), candidate('b')], h.scripted({ a: [unavailable()] }), {
        ...h.opts,
        signal: waiting.signal,
        sleep: async () => {
          waiting.abort();
          throw new Error('aborted');
        },
      }),
    );
    expect(sleeping.error.message).toMatch(/cancelled/);
  });

  it('rejects an empty plan, and lets a bug (not a provider error) through untouched', async () => {
    expect((await failure(execute([], h.scripted({}), h.opts))).error.kind).toBe('invalid');
    const bug = new TypeError('undefined is not a function');
    await expect(
      execute(
        [candidate('a'), candidate('b')],
        async () => {
          throw bug;
        },
        h.opts,
      ),
    ).rejects.toBe(bug);
  });

  it('passes the caller’s signal and timeout to every call', async () => {
    const seen: CallOptions[] = [];
    const signal = new AbortController().signal;
    await execute([candidate('a')], async (_c, options) => seen.push(options), { ...h.opts, signal, timeoutMs: 1234 });
    expect(seen).toEqual([{ signal, timeoutMs: 1234 }]);
  });
});

describe('the executor’s timeouts and deadline', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness();
  });

  const keyed = (modelId: string, config: Record<string, unknown>) =>
    candidate(modelId, { target: { ...candidate(modelId).target, config } });

  /** The scripted call, noting the timeout and the clock each attempt started with. */
  function noting(script: Record<string, Array<ProviderError | string>>) {
    const seen: Array<[string, number | undefined]> = [];
    const call = h.scripted(script);
    return {
      seen,
      call: (c: Candidate, options: CallOptions) => {
        seen.push([c.modelId, options.timeoutMs]);
        return call(c, options);
      },
    };
  }

  const slow = () => new ProviderError('timeout', 'did not answer in time');

  it('gives each attempt its key’s timeout when the key’s config sets one, else the execution’s', async () => {
    const { seen, call } = noting({ short: [slow()], odd: [slow()], none: [slow()] });
    const result = await execute(
      [
        keyed('short', { timeoutMs: 1_000 }),
        keyed('odd', { timeoutMs: -5 }),
        keyed('none', { timeoutMs: 'soon' }),
        candidate('plain'),
      ],
      call,
      { ...h.opts, timeoutMs: 60_000, retry: { maxAttempts: 1 } },
    );
    expect(result.value).toBe('plain:ok');
    expect(seen).toEqual([
      ['short', 1_000],
      ['odd', 60_000],
      ['none', 60_000],
      ['plain', 60_000],
    ]);
  });

  it('cuts each attempt’s timeout to the time left before the deadline', async () => {
    const { seen, call } = noting({ a: [slow(), slow()] });
    const deadline = h.advance(0) + 1_050;
    const result = await execute([keyed('a', { timeoutMs: 1_000 })], call, {
      ...h.opts,
      timeoutMs: 60_000,
      deadline,
      random: () => 0.5,
    });
    expect(result.value).toBe('a:ok');
    // Calls of 10 ms and backoffs of 50 and 100 ms: 1,050, then 990, then 880 ms left.
    expect(seen).toEqual([
      ['a', 1_000],
      ['a', 990],
      ['a', 880],
    ]);
    const late = noting({});
    await execute([keyed('a', { timeoutMs: 1_000 }), candidate('b')], late.call, {
      ...h.opts,
      timeoutMs: 60_000,
      deadline: h.advance(0) + 400,
    });
    expect(late.seen).toEqual([['a', 400]]);
  });

  it('cuts a stream’s wait for its first chunk to the deadline, and gives the whole stream the time left', async () => {
    const seen: CallOptions[] = [];
    const open = (_c: Candidate, options: CallOptions) => {
      seen.push(options);
      return (async function* (): AsyncGenerator<ChatChunk> {
        yield { type: 'delta', text: 'hi' };
      })();
    };
    const result = await executeStream([candidate('a')], open, { ...h.opts, timeoutMs: 60_000, deadline: h.advance(0) + 7_000 });
    expect(result.candidate.modelId).toBe('a');
    expect(seen.map(({ timeoutMs, totalTimeoutMs }) => ({ timeoutMs, totalTimeoutMs }))).toEqual([
      { timeoutMs: 7_000, totalTimeoutMs: 7_000 },
    ]);
    // Without a deadline, nothing bounds a stream that keeps arriving.
    await executeStream([candidate('a')], open, { ...h.opts, timeoutMs: 60_000 });
    expect(seen[1]).toEqual({ signal: undefined, timeoutMs: 60_000 });
  });

  it('ends a stream cut off at the deadline as a timeout of its attempt, cooling nothing down', async () => {
    const plan = [candidate('a'), candidate('b')];
    // Three streams cut off (more than the cooldown's threshold), each after one chunk.
    for (let i = 0; i < 3; i++) {
      const result = await executeStream(
        plan,
        () =>
          (async function* (): AsyncGenerator<ChatChunk> {
            yield { type: 'delta', text: 'partial ' };
            throw new OutOfTimeError('OpenAI', 1_000);
          })(),
        { ...h.opts, deadline: h.advance(0) + 1_000 },
      );
      const texts: string[] = [];
      const error = await (async () => {
        for await (const chunk of result.stream) if (chunk.type === 'delta') texts.push(chunk.text);
      })().catch((e: unknown) => e);
      expect(texts).toEqual(['partial ']);
      expect(error).toBeInstanceOf(OutOfTimeError);
      expect(result.attempts).toMatchObject([{ modelId: 'a', outcome: 'ok', endedWith: 'timeout' }]);
    }
    expect(h.cooldowns.lastFailureAt(targetKey(plan[0]!))).toBeUndefined();
    const next = await execute(plan, h.scripted({}), h.opts);
    expect(next.candidate.modelId).toBe('a');
  });

  it('ends the execution when an attempt is cut off at the deadline, with no fallback and no cooldown', async () => {
    const call = async (c: Candidate) => {
      h.calls.push(c.modelId);
      h.advance(1_000);
      throw new OutOfTimeError('OpenAI', 1_000);
    };
    const error = await failure(execute([candidate('a'), candidate('b')], call, { ...h.opts, deadline: h.advance(0) + 1_000 }));
    expect(error.error.kind).toBe('timeout');
    expect(h.calls).toEqual(['a']);
    expect(error.attempts.map((a) => [a.modelId, a.outcome])).toEqual([['a', 'timeout']]);
    expect(h.cooldowns.lastFailureAt(targetKey(candidate('a')))).toBeUndefined();
  });

  it('starts no attempt at or after the deadline: the call ends as a timeout, with the attempts made', async () => {
    // Each attempt takes 1 s; the deadline falls during the second one.
    h = harness({ callMs: 1_000 });
    const { seen, call } = noting({ a: [slow(), slow(), slow()] });
    const deadline = h.advance(0) + 1_500;
    const error = await failure(
      execute([candidate('a'), candidate('b')], call, { ...h.opts, timeoutMs: 60_000, deadline, random: () => 0 }),
    );
    expect(error.error.kind).toBe('timeout');
    expect(error.error.message).toBe('The call ran out of time after 2 attempts; last: did not answer in time');
    expect(seen).toEqual([
      ['a', 1_500],
      ['a', 500],
    ]);
    expect(h.calls).toEqual(['a', 'a']);
    expect(error.attempts.map((a) => [a.modelId, a.attempt, a.outcome])).toEqual([
      ['a', 1, 'timeout'],
      ['a', 2, 'timeout'],
    ]);

    // A deadline already passed: nothing is tried at all.
    h.calls.length = 0;
    const none = await failure(execute([candidate('a')], h.scripted({}), { ...h.opts, deadline: h.advance(0) }));
    expect(none.error.kind).toBe('timeout');
    expect(none.attempts).toEqual([]);
    expect(h.calls).toEqual([]);
  });

  it('falls back at once rather than wait a backoff that would reach the deadline', async () => {
    const result = await execute([candidate('a'), candidate('b')], h.scripted({ a: [throttled(2_000)] }), {
      ...h.opts,
      deadline: h.advance(0) + 1_000,
    });
    expect(result.value).toBe('b:ok');
    expect(h.waits).toEqual([]);
    expect(h.calls).toEqual(['a', 'b']);
  });

  it('stops a stream’s fallbacks at the deadline, before any chunk', async () => {
    const opened: string[] = [];
    const error = await failure(
      executeStream(
        [candidate('a'), candidate('b')],
        (c) => {
          opened.push(c.modelId);
          h.advance(1_000);
          return (async function* (): AsyncGenerator<ChatChunk> {
            throw unavailable();
          })();
        },
        { ...h.opts, deadline: h.advance(0) + 1_000, retry: { maxAttempts: 1 } },
      ),
    );
    expect(error.error.kind).toBe('timeout');
    expect(opened).toEqual(['a']);
    expect(error.attempts.map((a) => [a.modelId, a.outcome])).toEqual([['a', 'server']]);
  });
});

describe('the streaming executor', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness();
  });

  const done: ChatChunk = { type: 'done', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 2 } };

  /** A stream per candidate: chunks, then optionally an error (before or after some chunks). */
  function streams(script: Record<string, Array<{ chunks?: string[]; error?: ProviderError }>>) {
    return (c: Candidate): AsyncIterable<ChatChunk> => {
      h.calls.push(c.modelId);
      const plan = script[c.modelId]?.shift() ?? { chunks: [`${c.modelId} says hi`] };
      return (async function* () {
        for (const text of plan.chunks ?? []) yield { type: 'delta' as const, text };
        if (plan.error) throw plan.error;
        yield done;
      })();
    };
  }

  async function read(stream: AsyncIterable<ChatChunk>) {
    const texts: string[] = [];
    try {
      for await (const chunk of stream) texts.push(chunk.type === 'delta' ? chunk.text : 'done');
      return { texts };
    } catch (error) {
      return { texts, error: error as ProviderError };
    }
  }

  it('falls back while no chunk has been delivered', async () => {
    const result = await executeStream(
      [candidate('a'), candidate('b')],
      streams({ a: [{ error: unavailable() }, { error: unavailable() }, { error: unavailable() }] }),
      h.opts,
    );
    expect(result.candidate.modelId).toBe('b');
    expect(await read(result.stream)).toEqual({ texts: ['b says hi', 'done'] });
    expect(h.calls).toEqual(['a', 'a', 'a', 'b']);
    expect(result.attempts.map((a) => a.outcome)).toEqual(['server', 'server', 'server', 'ok']);
  });

  it('after the first chunk, ends the stream with the error and what was delivered, never switching model', async () => {
    const drop = new ProviderError('network', 'stream dropped');
    const result = await executeStream(
      [candidate('a'), candidate('b')],
      streams({ a: [{ chunks: ['one ', 'two '], error: drop }] }),
      h.opts,
    );
    const read1 = await read(result.stream);
    expect(read1.texts).toEqual(['one ', 'two ']);
    expect(read1.error).toBe(drop);
    expect(h.calls).toEqual(['a']);
    expect(result.attempts).toHaveLength(1);
    expect(result.attempts[0]).toMatchObject({ outcome: 'ok', endedWith: 'network' });
  });

  it('counts mid-stream failures towards the target’s cooldown', async () => {
    const plan = [candidate('a'), candidate('b')];
    for (let i = 0; i < 3; i++) {
      const result = await executeStream(plan, streams({ a: [{ chunks: ['x'], error: unavailable() }] }), h.opts);
      await read(result.stream);
    }
    h.calls.length = 0;
    const result = await executeStream(plan, streams({}), h.opts);
    expect(result.candidate.modelId).toBe('b');
    expect(h.calls).toEqual(['b']);
  });

  it('treats a stream that ends before any chunk as a failure to fall back from', async () => {
    const empty = () => (async function* (): AsyncGenerator<ChatChunk> {})();
    const result = await executeStream(
      [candidate('a'), candidate('b')],
      (c) => {
        h.calls.push(c.modelId);
        return c.modelId === 'a' ? empty() : streams({})(c);
      },
      { ...h.opts, retry: { maxAttempts: 1 } },
    );
    expect(result.candidate.modelId).toBe('b');
    expect(result.attempts[0]).toMatchObject({ modelId: 'a', outcome: 'network' });
  });

  it('stops at a non-retryable error before the first chunk', async () => {
    const filtered = new ProviderError('content_filter', 'refused');
    const error = await failure(executeStream([candidate('a'), candidate('b')], streams({ a: [{ error: filtered }] }), h.opts));
    expect(error.error).toBe(filtered);
    expect(h.calls).toEqual(['a']);
  });

  it('closes the provider’s stream when the caller stops reading', async () => {
    let closed = false;
    const result = await executeStream(
      [candidate('a')],
      () =>
        (async function* (): AsyncGenerator<ChatChunk> {
          try {
            for (let i = 0; ; i++) yield { type: 'delta', text: `${i}` };
          } finally {
            closed = true;
          }
        })(),
      h.opts,
    );
    for await (const chunk of result.stream) if (chunk.type === 'delta' && chunk.text === '3') break;
    expect(closed).toBe(true);
  });
});
