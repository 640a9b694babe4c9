/**
 * Reading a provider's answer. An answer is the provider's to shape: a server (an own key's base
 * URL, above all) can send `null`, a number or an array where an object belongs, a string where a
 * count belongs. Reading a field of it unchecked would be our TypeError, a 500, rather than the
 * provider's failure (a ProviderError) that the gateway retries or falls back from and a key's
 * test reports; so every field is checked before it is read.
 */
import { ProviderError } from '../types.ts';

/** Whether a value parsed from an answer is a JSON object (not null, not an array). */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A token count as the provider reported it, 0 when it reported none. Not judged here: metering
 * makes it countable (`countableUsage`: a fraction rounds up, what is no count counts 0) and
 * records the provider's figure when it had to change it (`usageInvalid`).
 */
export const tokenCount = (value: unknown): number => (value ?? 0) as number;

/** The text of an answer's field: '' for anything that is not a string. */
export const textField = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * The vectors of an embeddings answer, checked before a client gets them: one for each input, each
 * a non-empty array of finite numbers. Anything else (entries that are strings, `null` or arrays,
 * an empty vector, a vector too few or too many) is the provider failing, a `server` error, not
 * an answer to pass on.
 */
export function embeddingVectors(provider: string, vectors: unknown[], inputs: number): number[][] {
  if (vectors.length !== inputs)
    throw new ProviderError('server', `${provider} answered ${vectors.length} embeddings for ${inputs} inputs`);
  const bad = vectors.findIndex(
    (vector) => !Array.isArray(vector) || !vector.length || !vector.every((value) => Number.isFinite(value)),
  );
  if (bad >= 0)
    throw new ProviderError('server', `${provider} answered an embedding (input ${bad}) that is not a vector of numbers`);
  return vectors as number[][];
}
