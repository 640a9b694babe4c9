import { describe, expect, it } from 'vitest';
import { checkSchema, validateJson, type JsonSchema } from './json-schema.ts';

const openAiLike: JsonSchema = {
  type: 'object',
  properties: {
    organization: { type: 'string', pattern: '^org-[A-Za-z0-9]+$' },
    timeoutMs: { type: 'integer', minimum: 1000, maximum: 600000 },
    temperature: { type: 'number', minimum: 0, maximum: 2 },
    region: { type: 'string', enum: ['us', 'eu'] },
    headers: { type: 'object', additionalProperties: { type: 'string', maxLength: 10 } },
    tags: { type: 'array', items: { type: 'string', minLength: 2 } },
    note: { type: ['string', 'null'] },
  },
  required: ['region'],
  additionalProperties: false,
};

const paths = (schema: JsonSchema, value: unknown) => validateJson(schema, value).map((e) => e.path);

describe('validating a value against a schema of the allowed subset', () => {
  it('accepts a conforming object', () => {
    expect(
      validateJson(openAiLike, {
        organization: 'org-abc123',
        timeoutMs: 30000,
        temperature: 0.5,
        region: 'eu',
        headers: { a: 'x' },
        tags: ['ab'],
        note: null,
      }),
    ).toEqual([]);
  });

  it('reports each broken rule at its path', () => {
    const errors = validateJson(openAiLike, {
      organization: 'acme',
      timeoutMs: 10.5,
      temperature: 3,
      headers: { a: 'much too long' },
      tags: ['x', 7],
      extra: true,
    });
    expect(errors.map((e) => e.path).sort()).toEqual(
      ['organization', 'timeoutMs', 'temperature', 'headers.a', 'tags[0]', 'tags[1]', 'extra', 'region'].sort(),
    );
    expect(errors.find((e) => e.path === 'region')?.message).toBe('Is required');
    expect(errors.find((e) => e.path === 'extra')?.message).toBe('Is not an allowed property');
    expect(errors.find((e) => e.path === 'timeoutMs')?.message).toMatch(/type integer/);
    expect(errors.find((e) => e.path === 'temperature')?.message).toBe('Must be at most 2');
  });

  it('checks enum, minimum, type unions and integers strictly', () => {
    expect(paths(openAiLike, { region: 'asia' })).toEqual(['region']);
    expect(paths({ type: 'integer', minimum: 1 }, 0)).toEqual(['']);
    expect(paths({ type: 'integer' }, 2)).toEqual([]);
    expect(paths({ type: 'number' }, 2)).toEqual([]);
    expect(paths({ type: 'number' }, Number.NaN)).toEqual(['']);
    expect(paths({ type: ['string', 'null'] }, null)).toEqual([]);
    expect(paths({ type: 'object' }, [])).toEqual(['']);
    expect(paths({ type: 'object' }, null)).toEqual(['']);
    expect(paths({ enum: [{ a: 1 }, 'x'] }, { a: 1 })).toEqual([]);
  });

  it('allows unknown properties unless additionalProperties is false, and never reads inherited ones', () => {
    expect(paths({ type: 'object', properties: { a: { type: 'string' } } }, { b: 1 })).toEqual([]);
    expect(paths({ type: 'object', properties: {}, additionalProperties: false }, JSON.parse('{"__proto__": 1}'))).toEqual([
      '__proto__',
    ]);
    expect(paths({ type: 'object', properties: {}, additionalProperties: false }, { toString: 'x' })).toEqual(['toString']);
  });

  it('finds a required property missing even when its name is inherited by every object (toString, constructor)', () => {
    const schema: JsonSchema = { type: 'object', required: ['toString', 'constructor', '__proto__'] };
    expect(paths(schema, {}).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(paths(schema, JSON.parse('{"toString": "a", "constructor": "b", "__proto__": "c"}'))).toEqual([]);
  });

  it('counts string lengths in characters, not bytes', () => {
    expect(paths({ type: 'string', maxLength: 2 }, 'éé')).toEqual([]);
    expect(paths({ type: 'string', minLength: 3 }, '😀😀')).toEqual(['']);
  });
});

describe('patterns that backtrack without end on a crafted value', () => {
  // Forms the nested-quantifier check at save time does not catch: each takes minutes or more on these values.
  const slow = ['^(a|aa)+$', '^((a+))+$', '^(a|a?)+$', '^(?:(a)+)+$'];
  const crafted = 'a'.repeat(40) + '!';

  it.each(slow)(
    'refuses a value whose match against %s runs past the time budget, and still answers the other rules',
    (pattern) => {
      expect(checkSchema({ type: 'string', pattern })).toEqual([]);
      expect(validateJson({ type: 'string', pattern }, crafted)).toEqual([
        { path: '', message: `Took too long to match against ${pattern}: send a shorter or simpler value` },
      ]);
      expect(validateJson({ type: 'string', pattern }, 'aaaa')).toEqual([]);
      expect(validateJson({ type: 'string', pattern }, 'b')).toEqual([{ path: '', message: `Must match ${pattern}` }]);
    },
  );

  it('gives the budget to a whole value, not to each of its strings', () => {
    const schema: JsonSchema = { type: 'array', items: { type: 'string', pattern: '^(a|aa)+$' } };
    const errors = validateJson(
      schema,
      Array.from({ length: 200 }, () => crafted),
    );
    expect(errors).toHaveLength(200);
    expect(new Set(errors.map((e) => e.message))).toEqual(
      new Set(['Took too long to match against ^(a|aa)+$: send a shorter or simpler value']),
    );
  });
});

describe('checking a schema definition', () => {
  it('accepts the subset, with annotations', () => {
    expect(
      checkSchema({ ...openAiLike, title: 'OpenAI', description: 'x', $schema: 'https://json-schema.org/draft/2020-12/schema' }),
    ).toEqual([]);
  });

  it('refuses unsupported keywords, so nothing in a schema goes unenforced', () => {
    const errors = checkSchema({ type: 'object', properties: { a: { type: 'string', format: 'email' } }, oneOf: [] });
    expect(errors.map((e) => e.path).sort()).toEqual(['oneOf', 'properties.a.format']);
  });

  it('refuses malformed keywords', () => {
    const errors = checkSchema({
      type: 'thing',
      required: 'a',
      enum: [],
      minimum: '1',
      maxLength: -1,
      pattern: '(',
      additionalProperties: 'no',
      items: [],
    });
    expect(errors.map((e) => e.path).sort()).toEqual(
      ['type', 'required', 'enum', 'minimum', 'maxLength', 'pattern', 'additionalProperties', 'items'].sort(),
    );
    expect(checkSchema([])).toEqual([{ path: '', message: 'A schema is a JSON object' }]);
    expect(checkSchema({ pattern: 'a'.repeat(201) })[0]?.path).toBe('pattern');
    for (const evil of ['(a+)+$', '^(\\w*)*x', '(x{1,9}){2,}'])
      expect(checkSchema({ pattern: evil })[0]?.message, evil).toMatch(/Nested/);
    expect(checkSchema({ pattern: '^(org|proj)-[a-z]+$' })).toEqual([]);
  });

  it('limits nesting', () => {
    let deep: JsonSchema = { type: 'string' };
    for (let i = 0; i < 10; i++) deep = { type: 'object', properties: { x: deep } };
    expect(checkSchema(deep).some((e) => /nest/.test(e.message))).toBe(true);
  });
});
