import { describe, expect, it } from 'vitest';
import { execute } from './executor.ts';
import { failure } from './service.ts';
import { KeyWithdrawnError, ProviderError } from './types.ts';
import type { Candidate } from './types.ts';

const candidate = (keySource: Candidate['keySource']): Candidate => ({
  modelId: 'nova-canvas',
  modelName: 'Amazon Nova Canvas',
  type: 'IMAGE',
  pricing: { inputPerMTokMicros: 0, outputPerMTokMicros: 0, perImageMicros: 40_000 },
  target: { adapter: 'bedrock', providerSlug: 'bedrock', providerModelId: 'amazon.nova-canvas-v1:0' },
  keySource,
  reason: 'test',
});

const DENIED =
  'Bedrock: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/PlatformApi-Gateway/fn is not authorized to perform: bedrock:InvokeModel';

/** What a client is answered when every candidate failed on a refused key. */
async function answerFor(keySource: Candidate['keySource'], refusal = () => new ProviderError('auth', DENIED, { status: 403 })) {
  const error = await execute([candidate(keySource)], async () => {
    throw refusal();
  }).catch((e: unknown) => e);
  return failure(error);
}

describe('a refused key, answered to the client', () => {
  it('is the platform’s: a 502 that does not repeat what the provider said of the platform’s account; the logs get it', async () => {
    const { answer, errorType } = await answerFor('platform');
    expect(errorType).toBe('auth');
    expect(answer).toMatchObject({ status: 502 });
    expect(answer.message).toBe(
      "Every model that could serve this failed; last: nova-canvas: the provider refused the platform's credentials",
    );
    expect(answer.message).not.toMatch(/arn:|123456789012/);
    expect(String((answer.cause as Error).message)).toContain('arn:aws:sts::123456789012');
  });

  it('is the caller’s own (BYOK): what the provider said, which is theirs to fix', async () => {
    const { answer } = await answerFor('byok');
    expect(answer).toMatchObject({ status: 502 });
    expect(answer.message).toContain(DENIED);
  });

  it('is the platform’s, withdrawn by an admin during the call: a 502 that says so (no provider refused anything)', async () => {
    const withdrawn = "For nova-canvas, the platform's key was deleted while this call ran";
    const { answer, errorType } = await answerFor('platform', () => new KeyWithdrawnError(withdrawn));
    expect(errorType).toBe('auth');
    expect(answer).toMatchObject({ status: 502 });
    expect(answer.message).toBe(`Every model that could serve this failed; last: ${withdrawn}`);
  });
});
