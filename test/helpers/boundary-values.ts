import * as z from 'zod';

/**
 * Valid values at the edges of a zod schema, built from its JSON Schema: each string at its
 * shortest and longest (astral characters at the longest), numbers at their bounds, arrays
 * empty and full, optional fields left out and all sent. Only values the schema accepts are
 * kept, so a route answering them with a 5xx has a bug past validation.
 */
export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
};

/** min: shortest, smallest, required fields only; max: longest, largest, every field; one: min and the first optional field; odd: unusual but valid text. */
export type Variant = 'min' | 'max' | 'one' | 'odd';

// A small generator of strings matching a regular expression: literals, escapes, classes,
// groups with alternatives, and quantifiers, which is what the schemas' patterns use.
type Node =
  | { kind: 'chars'; pick: (variant: Variant, salt: number) => string }
  | { kind: 'group'; alternatives: Node[][] }
  | { kind: 'repeat'; node: Node; min: number; max: number };

function parsePattern(source: string): Node[][] {
  let i = 0;
  const peek = () => source[i];
  const escapeChars = (c: string): string[] => {
    if (c === 'd') return ['0', '9'];
    if (c === 'w') return ['a', 'z'];
    if (c === 's') return [' '];
    if (c === 'x') {
      const code = String.fromCharCode(parseInt(source.slice(i, i + 2), 16));
      i += 2;
      return [code];
    }
    if (c === 'p' || c === 'P') {
      i = source.indexOf('}', i) + 1;
      return [];
    }
    return [c];
  };
  /** One character of a class, or an escape's characters (a range's end points are enough here). */
  const classMember = (): string[] => {
    const c = source[i++]!;
    return c === '\\' ? escapeChars(source[i++]!) : [c];
  };
  const parseClass = (): Node => {
    const negated = peek() === '^';
    if (negated) i++;
    const members: string[] = [];
    while (peek() !== ']') {
      members.push(...classMember());
      if (peek() === '-' && source[i + 1] !== ']') {
        i++;
        members.push(...classMember());
      }
    }
    i++;
    return {
      kind: 'chars',
      pick: (variant, salt) => {
        if (negated) return ['a', 'b', 'x', 'Z', '0'].find((ch) => !members.includes(ch))!;
        return variant === 'max' ? members.at(-1)! : members[salt % members.length]!;
      },
    };
  };
  const parseSequence = (): Node[][] => {
    const alternatives: Node[][] = [[]];
    while (i < source.length && peek() !== ')') {
      const c = source[i++]!;
      let node: Node | undefined;
      if (c === '^' || c === '$') continue;
      if (c === '|') {
        alternatives.push([]);
        continue;
      }
      if (c === '(') {
        if (source.startsWith('?:', i)) i += 2;
        node = { kind: 'group', alternatives: parseSequence() };
        i++; // ')'
      } else if (c === '[') node = parseClass();
      else if (c === '\\') {
        const chars = escapeChars(source[i++]!);
        node = { kind: 'chars', pick: (variant) => (variant === 'max' ? chars.at(-1)! : chars[0]!) };
      } else if (c === '.') node = { kind: 'chars', pick: () => 'a' };
      else node = { kind: 'chars', pick: () => c };
      const q = peek();
      if (q === '{') {
        const end = source.indexOf('}', i);
        const [lo, hi] = source.slice(i + 1, end).split(',');
        i = end + 1;
        node = { kind: 'repeat', node, min: Number(lo), max: hi === undefined ? Number(lo) : hi === '' ? 40 : Number(hi) };
      } else if (q === '+' || q === '*' || q === '?') {
        i++;
        node = { kind: 'repeat', node, min: q === '+' ? 1 : 0, max: q === '?' ? 1 : 40 };
      }
      alternatives.at(-1)!.push(node);
    }
    return alternatives;
  };
  return parseSequence();
}

function generate(alternatives: Node[][], variant: Variant, salt: number): string {
  const sequence = variant === 'max' ? alternatives.at(-1)! : alternatives[0]!;
  const one = (node: Node, n: number): string => {
    if (node.kind === 'chars') return node.pick(variant, salt + n);
    if (node.kind === 'group') return generate(node.alternatives, variant, salt + n);
    const times = variant === 'max' ? node.max : Math.max(node.min, variant === 'min' ? 0 : 1);
    return Array.from({ length: times }, (_, k) => one(node.node, n + k)).join('');
  };
  return sequence.map((node, n) => one(node, n)).join('');
}

function matching(pattern: string, variant: Variant, salt: number): string | undefined {
  const re = new RegExp(pattern, 'u');
  for (const v of [variant, 'one', 'min'] as const) {
    const candidate = generate(parsePattern(pattern), v, salt);
    if (re.test(candidate)) return candidate;
  }
  return undefined;
}

/** A string matching every one of `patterns`: a match of each in turn, padded to the shortest length allowed. */
function stringOfAll(schema: JsonSchema, patterns: string[], variant: Variant, salt: number): string | undefined {
  const pieces = patterns.map((pattern) => matching(pattern, variant, salt));
  if (pieces.some((piece) => piece === undefined)) return undefined;
  const joined = pieces.join('');
  const value = joined.padEnd(variant === 'max' ? (schema.maxLength ?? joined.length) : (schema.minLength ?? 0), 'x');
  const fits = value.length <= (schema.maxLength ?? Infinity) && patterns.every((p) => new RegExp(p, 'u').test(value));
  return fits ? value : undefined;
}

function stringOf(schema: JsonSchema, variant: Variant, salt: number): string | undefined {
  switch (schema.format) {
    case 'email':
      return variant === 'max' ? `${'a'.repeat(64)}.${salt}@${'b'.repeat(60)}.example.test` : `x${salt}@example.test`;
    case 'uri':
    case 'url':
      return variant === 'max' ? `https://example.test/${'a'.repeat(200)}?q=${salt}` : `https://example.test/${salt}`;
    case 'date-time':
      return variant === 'min'
        ? '1970-01-01T00:00:00.000Z'
        : variant === 'max'
          ? '9999-12-31T23:59:59.999Z'
          : '2028-02-29T23:59:59+14:00';
    case 'date':
      return variant === 'min' ? '1970-01-01' : variant === 'max' ? '9999-12-31' : '2028-02-29';
    case 'uuid':
      return `00000000-0000-4000-8000-${String(salt).padStart(12, '0')}`;
  }
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 2000;
  if (schema.pattern) {
    const value = matching(schema.pattern, variant, salt);
    return value !== undefined && value.length >= min && value.length <= max ? value : undefined;
  }
  if (variant === 'min') return 'a'.repeat(min);
  if (variant === 'max') return '😀'.repeat(Math.floor(max / 2)) + (max % 2 ? 'a' : '');
  if (variant === 'one') return `v${salt}`.padEnd(min, 'v').slice(0, max);
  return ` <b>'"%00\${}ü ${salt}`.slice(0, Math.max(min, Math.min(max, 24))).padEnd(min, 'z');
}

function numberOf(schema: JsonSchema, variant: Variant): number {
  const integer = schema.type === 'integer';
  const step = integer ? 1 : 1e-6;
  const lo = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + step : undefined);
  const hi = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - step : undefined);
  if (variant === 'min') return lo ?? (integer ? -Number.MAX_SAFE_INTEGER : -1e300);
  if (variant === 'max') return hi ?? (integer ? Number.MAX_SAFE_INTEGER : 1e300);
  return Math.min(Math.max(1, lo ?? 1), hi ?? 1);
}

/**
 * Values for fields that name something which must exist (a provider, a model, a plan), by
 * field name: the n-th item of an array gets the n-th value, so that items stay distinct.
 */
export type Hints = Record<string, readonly unknown[]>;

/** Fields that name something which must exist, so that a request gets past looking it up. */
export const EXISTING_NAMES: Hints = {
  providerSlug: ['openai'],
  modelId: ['local-chat', 'nova-micro', 'gpt-4o-mini', 'claude-3-5-haiku'],
  models: [['local-chat']],
  fallbacks: [['nova-lite']],
  planId: ['pro'],
  planIds: [['pro', 'team']],
  defaultModel: ['gpt-4o-mini'],
  config: [{}],
};

export function valueOf(schema: JsonSchema, variant: Variant, salt = 0, depth = 0, hints: Hints = {}): unknown {
  if (depth > 8) return undefined;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return variant === 'max' ? schema.enum.at(-1) : schema.enum[salt % schema.enum.length];
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const usable = branches.filter((b) => b.type !== 'null');
    const pick = variant === 'max' ? usable.at(-1) : usable[0];
    return pick ? valueOf(pick, variant, salt, depth + 1, hints) : null;
  }
  if (schema.allOf) {
    const { allOf, ...own } = schema;
    const patterns = allOf.flatMap((part) => (part.pattern ? [part.pattern] : []));
    // A string that must match several patterns (a password: each character class): one piece for each.
    if (patterns.length > 1) return stringOfAll(own, patterns, variant, salt);
    return valueOf(Object.assign(own, ...allOf), variant, salt, depth + 1, hints);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'string':
      return stringOf(schema, variant, salt);
    case 'number':
    case 'integer':
      return numberOf(schema, variant);
    case 'boolean':
      return variant !== 'min';
    case 'null':
      return null;
    case 'array': {
      const n = variant === 'min' ? (schema.minItems ?? 0) : Math.min(schema.maxItems ?? 20, variant === 'max' ? 50 : 2);
      return Array.from({ length: Math.max(n, schema.minItems ?? 0) }, (_, k) =>
        valueOf(schema.items ?? {}, variant, salt + k, depth + 1, hints),
      );
    }
    default: {
      const out: Record<string, unknown> = {};
      let optionalSent = false;
      for (const [name, prop] of Object.entries(schema.properties ?? {})) {
        const required = schema.required?.includes(name) ?? false;
        if (!required && (variant === 'min' || (variant === 'one' && optionalSent))) continue;
        const hinted = hints[name];
        const v = hinted ? hinted[salt % hinted.length] : valueOf(prop, variant, salt, depth + 1, hints);
        if (v === undefined) continue;
        out[name] = v;
        if (!required) optionalSent = true;
      }
      if (typeof schema.additionalProperties === 'object' && variant !== 'min') {
        const v = valueOf(schema.additionalProperties, variant, salt, depth + 1, hints);
        if (v !== undefined) out[`key${salt}`] = v;
      }
      return out;
    }
  }
}

/** Strings for fields whose rules JSON Schema cannot say (a refinement, a pipe into `z.email()`). */
const KNOWN_GOOD = ['x@example.test', 'https://example.test/v1', 'Europe/Paris', 'en', '123456', 'a'];

function setAt(root: unknown, path: PropertyKey[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = (Array.isArray(root) ? [...root] : { ...(root as object) }) as Record<PropertyKey, unknown>;
  copy[path[0]!] = setAt(copy[path[0]!], path.slice(1), value);
  return copy;
}

/** Replaces the strings the schema refuses with known good ones, while that helps. */
function repaired(schema: z.ZodType, value: unknown): unknown {
  let current = value;
  for (let round = 0; round < 10; round++) {
    const result = schema.safeParse(current);
    if (result.success) return current;
    const issue = result.error.issues.find((i) => i.path.length > 0);
    if (!issue) return undefined;
    const count = result.error.issues.length;
    const fix = KNOWN_GOOD.map((good) => setAt(current, issue.path, good)).find((candidate) => {
      const again = schema.safeParse(candidate);
      return again.success || again.error.issues.length < count;
    });
    if (fix === undefined) return undefined;
    current = fix;
  }
  return undefined;
}

/** The values of each variant that the schema accepts, each once. */
export function boundaryValues(schema: z.ZodType, hints: Hints = {}): unknown[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out = new Map<string, unknown>();
  for (const variant of ['min', 'one', 'max', 'odd'] as const) {
    const value = repaired(schema, valueOf(json, variant, 0, 0, hints));
    if (value !== undefined) out.set(JSON.stringify(value), value);
  }
  return [...out.values()];
}
