/**
 * Builds a value on first use, once. Entities are built this way (ElectroDB validates a model
 * when it builds it, and a Lambda should pay only for the entities it touches), and so is code
 * that only some requests need (an API-key lookup, an Idempotency-Key record, usage limits):
 * `lazy(() => import('…'))` runs `import()` once, where calling `import()` on every request
 * would resolve the specifier each time (half a millisecond under the local cloud's loader).
 */
export function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}
