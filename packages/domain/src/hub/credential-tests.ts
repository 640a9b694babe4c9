import { adapterFor } from '../gateway/adapters/registry.ts';
import { keyTimeoutMs, ProviderError, type CallOptions, type GatewayOperation, type Target } from '../gateway/types.ts';
import { getCredentialForCall, recordCredentialTest, type CredentialTest, type CredentialTestError } from './credentials.ts';
import type { Owner } from './owners.ts';
import { CREDENTIAL_TEST_TIMEOUT_MS } from './schemas/credentials.ts';

/**
 * Testing a provider credential (`POST …/provider-credentials/{id}/test`; seed 000
 * provider_test_results): one minimal call through this key and nothing else, so the answer is
 * about the key alone.
 *
 * - The call: a one-token chat completion to the credential's model (`modelToTest`: its
 *   `defaultModel`, else the provider's cheapest catalogue model), or one embedding / one image for
 *   a model that only does that. Straight to the adapter, under a short deadline (the body's
 *   `timeoutMs`, else the key's own, else 8 s, and never more): no retry, no fallback, no cooldown
 *   (a failing test must not steer the gateway's traffic).
 * - Accepted or refused, the outcome is a result, stored on the credential as `lastTest` and
 *   answered 200; the error says what the provider said (auth, throttled, timeout, …) without the key.
 * - Not metered: no credits, no usage log, no model metric (the key's owner pays its provider for
 *   the one token). Not counted against the key's daily or monthly quota either: the quota bounds the
 *   gateway's traffic through the key, and a spent quota is exactly when one wants to check the key.
 */

const PROBE = 'ping';

async function minimalCall(target: Target, operation: GatewayOperation, options: CallOptions): Promise<void> {
  const adapter = await adapterFor(target.adapter);
  if (operation === 'embeddings') {
    if (!adapter.embed) throw new ProviderError('invalid', `The ${target.adapter} adapter makes no embeddings`);
    await adapter.embed(target, { input: [PROBE] }, options);
  } else if (operation === 'images') {
    if (!adapter.image) throw new ProviderError('invalid', `The ${target.adapter} adapter makes no images`);
    await adapter.image(target, { prompt: 'A plain white square', n: 1 }, options);
  } else {
    await adapter.chat(target, { messages: [{ role: 'user', content: PROBE }], maxTokens: 1 }, options);
  }
}

/** The test's wait: the one asked for, else the key's own `timeoutMs` (as the gateway's calls use it), else the most; never more. */
const testTimeoutMs = (target: Target, asked: number | undefined) =>
  Math.min(asked ?? keyTimeoutMs(target) ?? CREDENTIAL_TEST_TIMEOUT_MS, CREDENTIAL_TEST_TIMEOUT_MS);

/**
 * Calls the provider once through the credential, stores the outcome on it, and answers it.
 * `preloaded`: an organization's credential as its route read it with the authorization
 * (`credentialReads`).
 */
export async function testCredential(
  owner: Owner,
  credentialId: string,
  options: { timeoutMs?: number } = {},
  preloaded?: readonly unknown[],
): Promise<CredentialTest> {
  const { target, operation } = await getCredentialForCall(owner, credentialId, preloaded);
  await adapterFor(target.adapter); // loaded before the clock starts: the time is the provider's
  const started = performance.now();
  let error: CredentialTestError | undefined;
  try {
    await minimalCall(target, operation, { timeoutMs: testTimeoutMs(target, options.timeoutMs) });
  } catch (thrown) {
    if (!(thrown instanceof ProviderError)) throw thrown; // a bug of ours, not the provider's answer
    error = { type: thrown.kind, message: thrown.message, ...(thrown.options.status ? { status: thrown.options.status } : {}) };
  }
  const responseTimeMs = performance.now() - started;
  return recordCredentialTest(owner, credentialId, {
    ok: !error,
    responseTimeMs,
    model: target.providerModelId,
    operation,
    ...(error ? { error } : {}),
  });
}
