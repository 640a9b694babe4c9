import { describe, expect, it } from 'vitest';
import { storableJsonIssue, storedJsonObject } from './json-value.ts';

describe('stored free-form JSON', () => {
  it('takes what DynamoDB stores: nested maps and lists, safe integers, numbers in range, any text', () => {
    expect(storableJsonIssue({ a: [1, -2.5e15, 1e-130, 0, 'x', null, true, { b: Number.MAX_SAFE_INTEGER }] })).toBeUndefined();
  });

  it('names the first part DynamoDB would refuse', () => {
    let nested: unknown = 1;
    for (let i = 0; i < 30; i++) nested = { a: nested };
    expect(storableJsonIssue(nested)).toBeUndefined();
    expect(storableJsonIssue({ a: nested })?.message).toMatch(/Nested more than 30/);
    expect(storableJsonIssue({ n: 2 ** 64 })).toMatchObject({ path: ['n'], message: expect.stringMatching(/Integers beyond/) });
    expect(storableJsonIssue({ n: Infinity })?.path).toEqual(['n']);
    expect(storableJsonIssue({ n: [1, 1e-200] })?.path).toEqual(['n', '1']);
    expect(storableJsonIssue({ n: -1e126 })?.message).toMatch(/too large/);
    expect(storableJsonIssue({ m: { '': 1 } })).toMatchObject({ path: ['m'], message: 'Keys cannot be empty' });
    expect(storableJsonIssue({ s: 'a\ud800b' })?.path).toEqual(['s']);
  });

  it('answers a value nested 100,000 levels without overflowing the stack', () => {
    let nested: unknown = 1;
    for (let i = 0; i < 100_000; i++) nested = [nested];
    expect(storableJsonIssue(nested)?.message).toMatch(/Nested more than/);
    expect(storedJsonObject(1024, 'Too big').safeParse({ x: nested }).success).toBe(false);
  });

  it('checks the size once the value is storable', () => {
    const schema = storedJsonObject(10, 'At most 10 bytes');
    expect(schema.safeParse({ a: 'b' }).success).toBe(true);
    expect(schema.safeParse({ a: 'bbbbbbbbbb' }).error?.issues[0]?.message).toBe('At most 10 bytes');
  });
});
