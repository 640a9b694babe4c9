import * as z from 'zod';

/**
 * Free-form JSON the platform stores as a DynamoDB map (a user's settings, a credential's
 * config): zod's `record(unknown)` accepts any parsed JSON, but DynamoDB refuses some of it and
 * the write would fail as a 500. These are the limits a value must keep to be stored.
 */
/** Levels of maps and lists, the value itself included (DynamoDB allows 32 under the item). */
export const MAX_JSON_DEPTH = 30;
/**
 * DynamoDB numbers: magnitude in [1e-130, 1e126), at most 38 significant digits (a JS number has ≤ 17).
 * Beyond 2^53 every JS number is an integer it may hold inexactly, so those are refused too.
 */
const MIN_MAGNITUDE = 1e-130;
const MAX_MAGNITUDE = 1e126;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/**
 * Keys a map cannot be stored under as sent. The DynamoDB marshaller types a value by
 * `value.constructor.name`, which an own `constructor` key shadows: the write fails (a 500), or
 * writes the map as the text "[object Object]". It copies a map key by key, and a `__proto__` key
 * sets the copy's prototype instead: the key is lost, or what it holds is read as the map's type.
 * Object.prototype's other names (`toString`, `hasOwnProperty`, …) are stored and read back as sent.
 */
const UNSTORABLE_KEYS: ReadonlySet<string> = new Set(['constructor', '__proto__']);
const RESERVED_KEY = 'A key cannot be named `constructor` or `__proto__`';

export interface JsonValueIssue {
  path: string[];
  message: string;
}

function numberIssue(n: number): string | undefined {
  if (!Number.isFinite(n)) return 'A number too large to store';
  const magnitude = Math.abs(n);
  if (magnitude !== 0 && magnitude < MIN_MAGNITUDE) return 'A number too close to zero to store (at least 1e-130)';
  if (magnitude >= MAX_MAGNITUDE) return 'A number too large to store (below 1e126)';
  if (Number.isInteger(n) && !Number.isSafeInteger(n))
    return `Integers beyond ±${Number.MAX_SAFE_INTEGER} lose precision: send them as strings`;
  return undefined;
}

/**
 * The first part of `value` DynamoDB could not store, or undefined. Walks with an explicit stack,
 * not recursion, so a value nested however deep is answered, never a stack overflow.
 */
export function storableJsonIssue(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonValueIssue | undefined {
  const stack: Array<{ value: unknown; path: string[]; depth: number }> = [{ value, path: [], depth: 1 }];
  while (stack.length) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'number') {
      const message = numberIssue(v);
      if (message) return { path, message };
    } else if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return { path, message: 'Not valid Unicode text' };
    } else if (v !== null && typeof v === 'object') {
      if (depth > maxDepth) return { path, message: `Nested more than ${maxDepth} levels deep` };
      if (Array.isArray(v)) v.forEach((item, i) => stack.push({ value: item, path: [...path, String(i)], depth: depth + 1 }));
      else
        for (const [key, item] of Object.entries(v)) {
          if (key === '') return { path, message: 'Keys cannot be empty' };
          if (LONE_SURROGATE.test(key)) return { path, message: 'Keys must be valid Unicode text' };
          if (UNSTORABLE_KEYS.has(key)) return { path: [...path, key], message: RESERVED_KEY };
          stack.push({ value: item, path: [...path, key], depth: depth + 1 });
        }
    }
  }
  return undefined;
}

/**
 * A stored free-form JSON object (of at most `maxBytes` once serialized, when given): one field
 * error naming the part DynamoDB could not store, checked before the size so that size is
 * measured safely. It is checked as sent, before zod copies the object: the copy leaves out a
 * `__proto__` key, which would otherwise be dropped unseen rather than refused.
 */
export const storedJsonObject = (maxBytes = Infinity, sizeMessage = '', key: z.ZodString = z.string()) =>
  z.preprocess(
    // Typed as what the record takes (its input in the OpenAPI document); anything else is left for it to refuse.
    (value: Record<string, unknown>, ctx) => {
      const issue = value !== null && typeof value === 'object' && !Array.isArray(value) ? storableJsonIssue(value) : undefined;
      if (issue) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      return value;
    },
    z.record(key, z.unknown()).superRefine((value, ctx) => {
      if (maxBytes !== Infinity && JSON.stringify(value).length > maxBytes)
        ctx.addIssue({ code: 'custom', message: sizeMessage });
    }),
  );

/**
 * A number that is stored: one DynamoDB holds (`numberIssue`), else a field error saying why.
 * `z.number()` alone takes 1e-200, which DynamoDB refuses ("Number underflow") as the write's 500.
 */
export const storableNumber = () =>
  z.number().superRefine((n, ctx) => {
    const message = numberIssue(n);
    if (message) ctx.addIssue({ code: 'custom', message });
  });

/**
 * A name stored as a key of a map (a plan's limits, the provider catalogue) or looked up as one
 * (a plan id): never `constructor` or `__proto__` (UNSTORABLE_KEYS).
 */
export const storableKey = <S extends z.ZodString>(schema: S) =>
  schema.refine((name) => !UNSTORABLE_KEYS.has(name), '`constructor` and `__proto__` are reserved names');

/**
 * JSON with every object's keys in order, at every depth: a free-form object (a credential's
 * `config`) keeps the order it was sent in through validation, and a map read back from
 * DynamoDB need not keep its order either, so the same value always reads the same.
 */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
