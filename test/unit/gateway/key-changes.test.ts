/**
 * The executor over a real adapter and socket, when a key is refused before anything is sent:
 * its quota spent, or its owner withdrew it since the call was routed. Both fall back at once,
 * and neither is the provider's failure, so neither cools its target down.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { adapterFor } from '@platform/domain/gateway/adapters/registry';
import { Cooldowns, targetKey } from '@platform/domain/gateway/cooldowns';
import { execute, ExecutionError } from '@platform/domain/gateway/executor';
import type { ExecuteOptions } from '@platform/domain/gateway/executor';
import { KeyWithdrawnError, QuotaSpentError } from '@platform/domain/gateway/types';
import type { CallOptions, Candidate, ChatRequest } from '@platform/domain/gateway/types';
import { useFakeProvider } from '../../helpers/use-fake-provider.ts';

const fake = useFakeProvider();
const request: ChatRequest = { messages: [{ role: 'user', content: 'Hello?' }] };

function candidate(model: string, keySource: Candidate['keySource'], credentialVersion = 'v1'): Candidate {
  return {
    modelId: `m-${model}`,
    modelName: model,
    type: 'TEXT',
    pricing: { inputPerMTokMicros: 1_000_000, outputPerMTokMicros: 2_000_000 },
    target: {
      adapter: 'openai',
      providerSlug: 'openai',
      providerModelId: model,
      apiKey: `key-${model}`,
      baseUrl: fake().baseUrl('openai'),
    },
    keySource,
    credentialId: `pcr_${model}`,
    credentialVersion,
    reason: 'test',
  };
}

/** A call that refuses the candidates in `refused` before sending anything, as the gateway's key checks do. */
const callWith = (refused: Map<Candidate, () => Error>) => async (c: Candidate, options: CallOptions) => {
  const refusal = refused.get(c);
  if (refusal) throw refusal();
  return (await adapterFor(c.target.adapter)).chat(c.target, request, options);
};

let cooldowns: Cooldowns;
let options: ExecuteOptions;
beforeEach(() => {
  cooldowns = new Cooldowns();
  options = { cooldowns, random: () => 0, sleep: async () => undefined };
});

describe('a key refused before anything is sent', () => {
  it('spent quota: falls back at once on every call, never skipped as cooling, so a raised quota serves the next call', async () => {
    const own = candidate('own', 'byok');
    const platform = candidate('platform', 'platform');
    const spent = new Map([[own, () => new QuotaSpentError('The quota of the key is spent', 3_600_000)]]);
    for (let i = 0; i < 5; i++) {
      const result = await execute([own, platform], callWith(spent), options);
      expect(result.candidate).toBe(platform);
      expect(result.attempts.map((a) => a.outcome)).toEqual(['throttled', 'ok']);
    }
    expect(cooldowns.isCooling(targetKey(own), Date.now())).toBe(false);

    const result = await execute([own, platform], callWith(new Map()), options);
    expect(result.candidate).toBe(own);
    expect(fake().requests.map((r) => r.model)).toEqual([...Array(5).fill('platform'), 'own']);
  });

  it('withdrawn: falls back, the platform’s key too (no misconfiguration to surface), and cools nothing down', async () => {
    const platform = candidate('platform', 'platform');
    const other = candidate('other', 'platform');
    const withdrawn = new Map([[platform, () => new KeyWithdrawnError("The platform's key was deleted while this call ran")]]);
    const result = await execute([platform, other], callWith(withdrawn), options);
    expect(result.candidate).toBe(other);
    expect(result.attempts.map((a) => `${a.modelId} ${a.outcome}`)).toEqual(['m-platform auth', 'm-other ok']);
    expect(cooldowns.lastFailureAt(targetKey(platform))).toBeUndefined();
    expect(fake().requests.map((r) => r.model)).toEqual(['other']);

    // With nothing left, the call ends as that key's refusal.
    const error = await execute([platform], callWith(withdrawn), options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as ExecutionError).error).toMatchObject({ kind: 'auth' });
  });

  it('a rotated own key is a new target: the old one’s refusal does not cool it', async () => {
    fake().script('own', { kind: 'fail', status: 401, message: 'Incorrect API key provided' });
    const old = candidate('own', 'byok', 'v1');
    const platform = candidate('platform', 'platform');
    expect((await execute([old, platform], callWith(new Map()), options)).candidate).toBe(platform);
    expect(cooldowns.isCooling(targetKey(old), Date.now())).toBe(true);

    const rotated = candidate('own', 'byok', 'v2');
    expect((await execute([rotated, platform], callWith(new Map()), options)).candidate).toBe(rotated);
  });
});
