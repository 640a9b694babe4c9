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
          stack.push({ value: item, path: [...path, key], depth: depth + 1 });
        }
    }
  }
  return undefined;
}

/**
 * A stored free-form JSON object (of at most `maxBytes` once serialized, when given): one field
 * error naming the part DynamoDB could not store, checked before the size so that size is
 * measured safely.
 */
export const storedJsonObject = (maxBytes = Infinity, sizeMessage = '', key: z.ZodString = z.string()) =>
  z.record(key, z.unknown()).superRefine((value, ctx) => {
    const issue = storableJsonIssue(value);
    if (issue) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    else if (maxBytes !== Infinity && JSON.stringify(value).length > maxBytes)
      ctx.addIssue({ code: 'custom', message: sizeMessage });
  });
