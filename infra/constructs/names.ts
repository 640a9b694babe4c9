import { createHash } from 'node:crypto';

/** `identity.get-me` / `identity/getMe` → `IdentityGetMe`: construct ids (and so logical ids). */
export function pascalCase(value: string): string {
  return value
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/**
 * A Lambda function name (64 characters of `[A-Za-z0-9-_]`) from a prefix and a route id;
 * a name that would be too long keeps its start and gets a short hash of the whole.
 */
export function functionName(prefix: string, id: string): string {
  const name = `${prefix}-${id}`.replace(/[^A-Za-z0-9_-]+/g, '-');
  if (name.length <= 64) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, 64 - hash.length - 1)}-${hash}`;
}
