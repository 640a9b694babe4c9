import { createHash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * A sortable identifier (ULID layout, lower-case Crockford base32) behind a type prefix:
 * `org_01jq...`. Lists keyed by it come back in creation order.
 */
export function newId(prefix: string, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let random = '';
  for (let i = 0; i < 16; i++) random += CROCKFORD[bytes[i]! % 32];
  return `${prefix}_${time}${random}`;
}

export const ID_PATTERN = /^[a-z]{2,5}_[0-9a-z]{26}$/;

/** A stable shard in [0, shards) for a key (at most 256 shards): spreads a hot partition's writes. */
export const shardOf = (key: string, shards: number): number => createHash('sha256').update(key).digest()[0]! % shards;
