import { createContext, Script } from 'node:vm';
import type { FieldError } from './errors.ts';

/**
 * A small JSON Schema validator for the subset the platform allows in provider config
 * schemas: `type`, `properties`, `required`, `enum`, `minimum`, `maximum`, `pattern`,
 * `additionalProperties`, plus `items`, `minLength` / `maxLength` and annotations (`title`,
 * `description`, `default`, `examples`, `$schema`). Anything else is refused when a schema is
 * saved, so what a schema says is exactly what is enforced. A few dozen lines instead of a
 * general validator: nothing to compile at cold start, no code generation.
 */
export const JSON_TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'] as const;
export type JsonType = (typeof JSON_TYPES)[number];

export type JsonSchema = {
  type?: JsonType | JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  title?: string;
  description?: string;
  default?: unknown;
  examples?: unknown[];
  $schema?: string;
};

const ANNOTATIONS = new Set(['title', 'description', 'default', 'examples', '$schema']);
const KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'enum',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'additionalProperties',
  'items',
  ...ANNOTATIONS,
]);
const MAX_DEPTH = 8;
const MAX_PATTERN = 200;
/**
 * A quantified group that itself holds a quantifier, e.g. `(a+)+`: exponential backtracking on a
 * crafted value. Refused when a schema is saved, as the common case; no such check catches every
 * slow pattern (`(a|aa)+`, `((a+))+`), so matching is also bounded in time (below).
 */
const NESTED_QUANTIFIER = /\([^()]*[+*}][^()]*\)\s*[+*{]/;
/**
 * The time one validation may spend matching patterns, all of them together. JavaScript cannot
 * stop a regular expression from outside; a script run in a `vm` context with a timeout can, and
 * a match costs about 0.1 ms more that way (validation serves admin and credential writes, never
 * a gateway call). Past it, the value is refused: one crafted value cannot hold a request.
 */
export const MATCH_BUDGET_MS = 100;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const join = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

const patterns = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let regex = patterns.get(pattern);
  if (!regex) {
    regex = new RegExp(pattern, 'u');
    if (patterns.size > 500) patterns.clear();
    patterns.set(pattern, regex);
  }
  return regex;
}

let matcher: { context: { re?: RegExp; value?: string }; script: Script } | undefined;

/** Whether `value` matches `pattern`, or `undefined` when that takes past `deadline` (ms since the epoch). */
function matchBefore(pattern: string, value: string, deadline: number): boolean | undefined {
  const timeout = Math.floor(deadline - Date.now());
  if (timeout < 1) return undefined;
  matcher ??= { context: createContext({}), script: new Script('re.test(value)') };
  Object.assign(matcher.context, { re: compiled(pattern), value });
  try {
    return matcher.script.runInContext(matcher.context, { timeout }) as boolean;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return undefined;
    throw error;
  } finally {
    Object.assign(matcher.context, { re: undefined, value: undefined });
  }
}

/** The problems of a schema definition itself (unsupported keywords, wrong shapes); empty when usable. */
export function checkSchema(schema: unknown, path = '', depth = 0): FieldError[] {
  if (!isObject(schema)) return [{ path, message: 'A schema is a JSON object' }];
  if (depth > MAX_DEPTH) return [{ path, message: `Schemas nest at most ${MAX_DEPTH} levels` }];
  const errors: FieldError[] = [];
  const fail = (key: string, message: string) => errors.push({ path: join(path, key), message });
  for (const key of Object.keys(schema))
    if (!KEYWORDS.has(key)) fail(key, `Unsupported keyword; use ${[...KEYWORDS].join(', ')}`);

  const { type, properties, required, minimum, maximum, minLength, maxLength, pattern, additionalProperties, items } = schema;
  const types = Array.isArray(type) ? type : type === undefined ? [] : [type];
  if (type !== undefined && (!types.length || types.some((t) => !(JSON_TYPES as readonly unknown[]).includes(t))))
    fail('type', `One of ${JSON_TYPES.join(', ')}, or a list of them`);
  if (properties !== undefined) {
    if (!isObject(properties)) fail('properties', 'An object of schemas');
    else
      for (const [name, sub] of Object.entries(properties))
        errors.push(...checkSchema(sub, join(join(path, 'properties'), name), depth + 1));
  }
  if (required !== undefined && !(Array.isArray(required) && required.every((r) => typeof r === 'string')))
    fail('required', 'A list of property names');
  if (schema.enum !== undefined && !(Array.isArray(schema.enum) && schema.enum.length > 0)) fail('enum', 'A non-empty list');
  for (const [key, value] of Object.entries({ minimum, maximum }))
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value))) fail(key, 'A number');
  for (const [key, value] of Object.entries({ minLength, maxLength }))
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0)) fail(key, 'A non-negative integer');
  if (pattern !== undefined) {
    if (typeof pattern !== 'string' || pattern.length > MAX_PATTERN)
      fail('pattern', `A regular expression of at most ${MAX_PATTERN} characters`);
    else if (NESTED_QUANTIFIER.test(pattern)) fail('pattern', 'Nested quantifiers like (a+)+ are not allowed');
    else
      try {
        compiled(pattern);
      } catch {
        fail('pattern', 'Not a valid regular expression');
      }
  }
  if (additionalProperties !== undefined && typeof additionalProperties !== 'boolean')
    errors.push(...checkSchema(additionalProperties, join(path, 'additionalProperties'), depth + 1));
  if (items !== undefined) errors.push(...checkSchema(items, join(path, 'items'), depth + 1));
  return errors;
}

function typeOf(value: unknown): JsonType | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : Number.isFinite(value) ? 'number' : 'other';
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'object') return typeof value as JsonType;
  return 'other';
}

const matchesType = (actual: JsonType | 'other', expected: JsonType) =>
  actual === expected || (expected === 'number' && actual === 'integer');

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The ways `value` breaks `schema` (a schema that passed `checkSchema`); empty when it conforms.
 * Its patterns get `MATCH_BUDGET_MS` in all; a string whose match runs past it is refused.
 */
export function validateJson(
  schema: JsonSchema,
  value: unknown,
  path = '',
  deadline = Date.now() + MATCH_BUDGET_MS,
): FieldError[] {
  const errors: FieldError[] = [];
  const fail = (message: string, at = path) => errors.push({ path: at, message });
  const actual = typeOf(value);

  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => matchesType(actual, t))) {
      fail(`Must be of type ${types.join(' or ')}`);
      return errors;
    }
  }
  if (schema.enum && !schema.enum.some((option) => sameJson(option, value)))
    fail(`Must be one of ${schema.enum.map((o) => JSON.stringify(o)).join(', ')}`);

  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) fail(`Must be at least ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) fail(`Must be at most ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) fail(`Must be at least ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && length > schema.maxLength) fail(`Must be at most ${schema.maxLength} characters`);
    if (schema.pattern !== undefined) {
      const matched = matchBefore(schema.pattern, value, deadline);
      if (matched === undefined) fail(`Took too long to match against ${schema.pattern}: send a shorter or simpler value`);
      else if (!matched) fail(`Must match ${schema.pattern}`);
    }
  }
  if (Array.isArray(value) && schema.items)
    value.forEach((item, i) => errors.push(...validateJson(schema.items!, item, join(path, i), deadline)));

  if (isObject(value)) {
    const properties = schema.properties ?? {};
    for (const name of schema.required ?? []) if (!Object.hasOwn(value, name)) fail('Is required', join(path, name));
    for (const [name, item] of Object.entries(value)) {
      const own = Object.hasOwn(properties, name) ? properties[name] : undefined;
      if (own) errors.push(...validateJson(own, item, join(path, name), deadline));
      else if (schema.additionalProperties === false) fail('Is not an allowed property', join(path, name));
      else if (isObject(schema.additionalProperties))
        errors.push(...validateJson(schema.additionalProperties, item, join(path, name), deadline));
    }
  }
  return errors;
}
